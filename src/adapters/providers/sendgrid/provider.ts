/**
 * Email through SendGrid. One `send` becomes one request per distinct content (see batching.ts).
 * SendGrid validates a request as a whole, so one bad address in a 400 would otherwise take every
 * good recipient of that request down with it; see `deliver` for how that is avoided.
 */
import type { DeliveryProvider, DeliveryResult } from '../../../ports/deliveryProvider.ts';
import type { Logger } from '../../../ports/logger.ts';
import { maskEmail } from '../../../mask.ts';
import type { SendgridConfig } from './config.ts';
import { createSendgridGateway, type SendgridGateway } from './client.ts';
import { invalidPersonalizations, sendgridErrorToResult } from './errors.ts';
import { MAX_PERSONALIZATIONS, planRequests, type EmailMessage, type PlannedRequest } from './batching.ts';
import { CALL_TIMEOUT_MAX_MS } from '../callTimeout.ts';

/** SendGrid publishes no mail/send rate; it answers 429 with reset headers, which we honour. */
const DEFAULT_CONCURRENCY = 8;
/** Requests in flight within one `send` (distinct contents, or the one-by-one fallback). */
const REQUESTS_IN_FLIGHT = 4;
/** The first round of requests always starts, even with a timeout as long as the call's budget. */
const FIRST_ROUND_MS = 1_000;

/**
 * `callBudgetMs`: how long one `send` may take in all (default CALL_TIMEOUT_MAX_MS; the route's
 * group waits for an ack twice that plus two seconds, deliveryMessageTimeoutMs).
 * HERALD_SENDGRID_TIMEOUT_MS bounds each request, and a call makes one per distinct content, four
 * at a time: a request that could not finish within the budget is not started, and its recipients
 * fail as `timeout` (sent again later), so that the group never hands out again a delivery whose
 * call is still going.
 */
export function createSendgridProvider(config: SendgridConfig, logger: Logger, { callBudgetMs = CALL_TIMEOUT_MAX_MS } = {}): DeliveryProvider {
  const log = logger.child({ provider: 'sendgrid' });
  const gateway = createSendgridGateway(config);
  log.info({ from: maskEmail(config.from.email), customBaseUrl: Boolean(config.baseUrl) }, 'sendgrid provider ready');

  return {
    id: 'sendgrid',
    route: 'email',
    maxBatchSize: MAX_PERSONALIZATIONS,
    limits: { concurrency: DEFAULT_CONCURRENCY },
    callBoundMs: callBudgetMs,
    async send(messages) {
      const results: DeliveryResult[] = new Array<DeliveryResult>(messages.length);
      const sendable: { index: number; message: EmailMessage }[] = [];
      messages.forEach((message, index) => {
        if (message.route !== 'email') {
          results[index] = { status: 'rejected', reason: 'invalid_content', detail: `route ${message.route} sent to the email provider` };
        } else if (!message.content.text && !message.content.html) {
          results[index] = { status: 'rejected', reason: 'invalid_content', detail: 'email has neither text nor html' };
        } else {
          sendable.push({ index, message });
        }
      });
      const deliverer = new Deliverer(gateway, results, log, Date.now() + Math.max(callBudgetMs - config.timeoutMs, FIRST_ROUND_MS));
      await forEachLimited(planRequests(sendable), REQUESTS_IN_FLIGHT, (request) => deliverer.deliver(request, true));
      return results;
    },
    async close() {
      gateway.close();
    },
  };
}

class Deliverer {
  constructor(
    private readonly gateway: SendgridGateway,
    private readonly results: DeliveryResult[],
    private readonly log: Logger,
    /** The last time a request may start and still end, at its timeout, within the call's budget. */
    private readonly lastStart: number,
  ) {}

  /**
   * Sends one request. When a request with several recipients gets a 400 for invalid
   * addresses, those named in the error fields are rejected and the rest are resent once as one
   * request; if SendGrid names none, every recipient is retried alone, so each gets its own
   * verdict. Only one such round: if the retry is refused again for addresses, the unnamed
   * recipients are `failed` (retried later), never rejected for someone else's address.
   */
  async deliver(request: PlannedRequest, mayRetry: boolean): Promise<void> {
    const { content, recipients } = request;
    if (Date.now() > this.lastStart) {
      const detail = 'not sent: this call to SendGrid had used its time (one request per distinct content, four at a time); sent again later';
      for (const r of recipients) this.settle(r, { status: 'failed', reason: 'timeout', detail });
      return;
    }
    const outcome = await this.gateway.send({ ...content, recipients });
    if (outcome.ok) {
      // SendGrid always sends X-Message-Id on 202; a proxy might strip it, and webhooks match
      // on custom_args.notificationId anyway, so that id is the fallback.
      for (const r of recipients) this.settle(r, { status: 'sent', providerMessageId: outcome.messageId ?? r.notificationId });
      return;
    }
    const result = sendgridErrorToResult(outcome.error);
    if (!(result.status === 'rejected' && result.reason === 'invalid_address' && recipients.length > 1)) {
      for (const r of recipients) this.settle(r, result);
      return;
    }
    const bad = new Set(invalidPersonalizations(outcome.error));
    const rest = recipients.filter((_, i) => !bad.has(i));
    recipients.filter((_, i) => bad.has(i)).forEach((r) => this.settle(r, result));
    if (!mayRetry) {
      const detail = 'another address in the same SendGrid request was invalid';
      for (const r of rest) this.settle(r, { status: 'failed', reason: 'batch_rejected', detail });
    } else if (bad.size > 0) {
      if (rest.length > 0) await this.deliver({ content, recipients: rest }, false);
    } else {
      await forEachLimited(rest, REQUESTS_IN_FLIGHT, (r) => this.deliver({ content, recipients: [r] }, false));
    }
  }

  private settle(recipient: PlannedRequest['recipients'][number], result: DeliveryResult): void {
    this.results[recipient.index] = result;
    const context = { notificationId: recipient.notificationId, to: maskEmail(recipient.to), ...result };
    if (result.status === 'sent') this.log.debug(context, 'email accepted by sendgrid');
    else this.log.warn(context, result.status === 'rejected' ? 'email rejected by sendgrid' : 'email send failed');
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
