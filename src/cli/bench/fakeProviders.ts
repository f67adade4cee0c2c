/**
 * The REAL SDK adapters (firebase-admin, node-apn, twilio, @sendgrid/mail) pointed at the fake
 * provider servers of bench/fakesProcess.ts. Built from plain data, so Herald's delivery thread
 * can build them itself (see ProvidersModule in src/backendThread.ts).
 */
import type { DeliveryProvider, Route } from '../../ports/deliveryProvider.ts';
import type { Logger } from '../../ports/logger.ts';
import { createApnsProvider } from '../../adapters/providers/apns/index.ts';
import { createFcmProvider, FCM_DEFAULT_MAX_SOCKETS } from '../../adapters/providers/fcm/index.ts';
import { createSendgridProvider } from '../../adapters/providers/sendgrid/index.ts';
import { createTwilioProvider } from '../../adapters/providers/twilio/index.ts';
import { FakeRouteAgent } from '../../../test/fakes/fcmServer.ts';

export const TWILIO_SID = `AC${'b'.repeat(32)}`;
export const TWILIO_TOKEN = 'e'.repeat(32);
export const SENDGRID_KEY = 'SG.bench-key.abcdefghijklmnopqrstuvwxyz';

/** Where the fakes listen and what they trust: everything the providers need, as plain data. */
export interface FakeEndpoints {
  apns: { port: number; ca: string; credentials: { key: string; keyId: string; teamId: string; bundleId: string } };
  fcm: { port: number; ca: string; projectId: string; accessToken: string };
  twilio: { baseUrl: string };
  sendgrid: { baseUrl: string };
}

export function createProviders(fakes: FakeEndpoints, logger: Logger): Record<Route, DeliveryProvider> {
  return {
    apns: createApnsProvider({ ...fakes.apns.credentials, production: false }, logger, { address: '127.0.0.1', port: fakes.apns.port, ca: [fakes.apns.ca] }),
    // The credential replaces the OAuth exchange, so the private key is never used. The default
    // transport (http1), with a pool as large as production's, routed to the fake.
    fcm: createFcmProvider({ projectId: fakes.fcm.projectId, clientEmail: 'bench@herald-test.iam.gserviceaccount.com', privateKey: 'unused' }, logger, {
      credential: { getAccessToken: async () => ({ access_token: fakes.fcm.accessToken, expires_in: 3600 }) },
      httpAgent: new FakeRouteAgent(fakes.fcm.port, fakes.fcm.ca, FCM_DEFAULT_MAX_SOCKETS),
    }),
    // Twilio's real per-sender limit is an account setting; the benchmark measures Herald, not it.
    sms: createTwilioProvider({ accountSid: TWILIO_SID, auth: { kind: 'authToken', authToken: TWILIO_TOKEN }, sender: { kind: 'from', from: '+15005550006' }, baseUrl: fakes.twilio.baseUrl, ratePerSecond: 10_000, timeoutMs: 10_000 }, logger),
    email: createSendgridProvider({ apiKey: SENDGRID_KEY, from: { email: 'news@herald.example', name: 'Herald' }, baseUrl: fakes.sendgrid.baseUrl, timeoutMs: 10_000 }, logger),
  };
}
