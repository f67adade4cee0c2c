import type { ReadModelStore } from '../ports/readModelStore.ts';
import { ParkedEventsUnreadableError, type EventStore } from '../ports/eventStore.ts';
import type { Logger } from '../ports/logger.ts';
import { deadLetters } from '../projections/deadLetters.ts';
import { listParkedDeliveries } from '../commands/deadLetters.ts';

export interface AlertOptions {
  threshold: number;
  webhookUrl?: string;
  intervalMs?: number;
  /** Called on every check with the count, so metrics can export it. */
  onCount?: (count: number) => void;
}

/**
 * Raises an alert when dead letters (failed routes plus parked events) reach the threshold: an
 * error log line, and a POST to the operators' webhook when one is set. It fires once per
 * crossing, and again only after the count has dropped below the threshold. A POST the webhook
 * did not accept (unreachable, or not 2xx) is sent again at each check until it is, so an
 * alert raised while the operators' endpoint is down is not lost.
 */
export class DeadLetterAlert {
  private timer?: NodeJS.Timeout;
  /** This crossing's error line is written. */
  private logged = false;
  /** This crossing's alert reached the webhook (or there is none). */
  private delivered = false;
  /** Why the last check could not count parked events, if it could not. */
  private parkedProblem: string | undefined;

  constructor(
    private readonly events: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly logger: Logger,
    private readonly options: AlertOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check().catch((error: unknown) => this.logger.warn({ err: error }, 'dead-letter check failed')), this.options.intervalMs ?? 10_000);
    this.timer.unref();
  }

  async check(): Promise<number> {
    const failed = await this.readModels.count(deadLetters.collection.name);
    const parked = await this.parkedCount();
    const count = failed + (parked ?? 0);
    this.options.onCount?.(count);
    if (count < this.options.threshold) {
      this.logged = false;
      this.delivered = false;
      return count;
    }
    if (this.logged && this.delivered) return count;
    const alert = { alert: 'dead_letters_over_threshold', count, failed, parked, ...(this.parkedProblem ? { parkedUnreadable: this.parkedProblem } : {}), threshold: this.options.threshold, at: new Date().toISOString() };
    if (!this.logged) {
      this.logged = true;
      this.logger.error(alert, `dead letters (${count}) reached the alert threshold (${this.options.threshold}): inspect GET /v1/dead-letters, fix the cause, then POST /v1/dead-letters/redrive`);
    }
    this.delivered = this.options.webhookUrl ? await this.notify(alert) : true;
    return count;
  }

  /**
   * How many events are parked, or null when the store will not say: then the alert goes on with
   * the failed deliveries alone, and says why once (again only after it has recovered).
   */
  private async parkedCount(): Promise<number | null> {
    try {
      const parked = (await listParkedDeliveries(this.events, 1000)).length;
      if (this.parkedProblem) this.logger.info({}, 'parked events can be counted again; the dead-letter alert counts them again');
      this.parkedProblem = undefined;
      return parked;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.parkedProblem) {
        const log = error instanceof ParkedEventsUnreadableError ? this.logger.error.bind(this.logger) : this.logger.warn.bind(this.logger);
        log({ err: error }, `cannot count parked events (${message}); until this is fixed the dead-letter alert counts failed deliveries only`);
      }
      this.parkedProblem = message;
      return null;
    }
  }

  /** Whether the webhook accepted the alert (a 2xx answer). */
  private async notify(alert: Record<string, unknown>): Promise<boolean> {
    const again = `the alert is sent again at the next check (every ${this.options.intervalMs ?? 10_000} ms) until it is accepted`;
    try {
      const res = await fetch(this.options.webhookUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert), signal: AbortSignal.timeout(5000) });
      // The answer's body is not used; reading it frees the connection for the next alert.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return true;
      this.logger.warn({ status: res.status }, `alert webhook answered with an error status; ${again}`);
    } catch (error) {
      this.logger.warn({ err: error }, `alert webhook unreachable; check HERALD_ALERT_WEBHOOK_URL; ${again}`);
    }
    return false;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
