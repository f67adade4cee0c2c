import type { DeliveryProvider, Route } from '../../ports/deliveryProvider.ts';
import type { Logger } from '../../ports/logger.ts';
import type { Config } from '../../config.ts';
import { createApnsProvider, loadApnsConfig } from './apns/index.ts';
import { createFcmProvider, loadFcmConfig } from './fcm/index.ts';
import { createSandboxProvider } from './sandbox/sandboxProvider.ts';
import { createSendgridProvider, loadSendgridConfig } from './sendgrid/index.ts';
import { createTwilioProvider, loadTwilioConfig } from './twilio/index.ts';

/**
 * A real provider for every route whose credentials are configured, the sandbox for the rest.
 * A partly configured provider is a start-up error (ConfigError), never a silent sandbox.
 */
export function providersFromConfig(config: Config, logger: Logger): Record<Route, DeliveryProvider> {
  const env = config.env;
  const sandbox = (route: Route) => createSandboxProvider(route, config.sandbox);
  const apns = loadApnsConfig(env);
  const fcm = loadFcmConfig(env);
  const twilio = loadTwilioConfig(env);
  const sendgrid = loadSendgridConfig(env);
  return {
    apns: apns ? createApnsProvider(apns, logger.child({ provider: 'apns' })) : sandbox('apns'),
    fcm: fcm ? createFcmProvider(fcm, logger.child({ provider: 'fcm' })) : sandbox('fcm'),
    sms: twilio ? createTwilioProvider(twilio, logger.child({ provider: 'twilio' })) : sandbox('sms'),
    email: sendgrid ? createSendgridProvider(sendgrid, logger.child({ provider: 'sendgrid' })) : sandbox('email'),
  };
}
