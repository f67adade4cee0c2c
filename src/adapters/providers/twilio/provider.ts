/**
 * SMS through Twilio. Twilio has no batch send, so the port sees maxBatchSize 1 and the delivery
 * processor parallelises up to `limits`; every failure becomes a per-message result.
 */
import type { DeliveryMessage, DeliveryProvider, DeliveryResult } from '../../../ports/deliveryProvider.ts';
import type { Logger } from '../../../ports/logger.ts';
import { maskPhone } from '../../../mask.ts';
import type { TwilioConfig } from './config.ts';
import { createTwilioGateway, type TwilioGateway } from './client.ts';
import { twilioErrorToResult } from './errors.ts';

/**
 * Twilio accepts requests far faster than it sends (it queues per sender), but an account has a
 * REST concurrency cap answered with 20429; ten in flight stays well below it.
 */
const DEFAULT_CONCURRENCY = 10;

export function createTwilioProvider(config: TwilioConfig, logger: Logger): DeliveryProvider {
  const log = logger.child({ provider: 'twilio' });
  const gateway = createTwilioGateway(config);
  log.info(
    { sender: config.sender.kind, ratePerSecond: config.ratePerSecond, customBaseUrl: Boolean(config.baseUrl) },
    'twilio provider ready',
  );

  return {
    id: 'twilio',
    route: 'sms',
    maxBatchSize: 1,
    limits: { concurrency: DEFAULT_CONCURRENCY, ratePerSecond: config.ratePerSecond },
    callBoundMs: config.timeoutMs,
    async send(messages) {
      const results: DeliveryResult[] = [];
      // Sequential on purpose: batches are size 1 and parallelism belongs to the processor,
      // which knows the limits; a caller that passes more still gets a result per message.
      for (const message of messages) results.push(await sendOne(gateway, message, log));
      return results;
    },
    async close() {
      gateway.close();
    },
  };
}

async function sendOne(gateway: TwilioGateway, message: DeliveryMessage, log: Logger): Promise<DeliveryResult> {
  const context = { notificationId: message.notificationId, to: maskPhone(message.to) };
  if (message.route !== 'sms') {
    return { status: 'rejected', reason: 'invalid_content', detail: `route ${message.route} sent to the SMS provider` };
  }
  const outcome = await gateway.send({ to: message.to, body: message.content.body, ...validityOf(message.expiresAt) });
  if (outcome.ok) {
    log.debug({ ...context, sid: outcome.sid }, 'sms accepted by twilio');
    return { status: 'sent', providerMessageId: outcome.sid };
  }
  const result = twilioErrorToResult(outcome.error, outcome.retryAfterMs);
  log.warn({ ...context, ...result }, result.status === 'rejected' ? 'sms rejected by twilio' : 'sms send failed');
  return result;
}

/** Twilio's longest validity period, also its default. */
const MAX_VALIDITY_SECONDS = 36_000;

/** How long Twilio may queue it before dropping it: until the notification expires, when that is sooner than Twilio's default. */
export function validityOf(expiresAt: string | undefined, now = Date.now()): { validityPeriod?: number } {
  if (!expiresAt) return {};
  const seconds = Math.floor((Date.parse(expiresAt) - now) / 1000);
  return seconds >= MAX_VALIDITY_SECONDS ? {} : { validityPeriod: Math.max(1, seconds) };
}
