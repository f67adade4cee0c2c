/**
 * One app's callbacks, in order: a queue of events waiting for the app's receiver, sent one POST
 * at a time in batches of up to MAX_BATCH (a JSON array, as SendGrid's Event Webhook does), each
 * retried with backoff until it is delivered or given up. Each app has its own lane, so a slow or
 * down receiver holds up only its own app's callbacks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { PersistentEvent } from '../ports/eventStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { CallbackItem } from '../callbacks/payload.ts';
import type { CallbackConfig } from '../callbacks/config.ts';
import { postCallback } from '../callbacks/post.ts';
import { SIGNATURE_HEADER, signCallback } from '../callbacks/signature.ts';

export const MAX_BATCH = 50;

/** Where and how a callback goes: the app's URL and the secrets that sign it then. */
export interface CallbackTarget {
  url: string;
  secrets: string[];
}

export interface Pending {
  pe: PersistentEvent;
  item: CallbackItem;
  target: CallbackTarget;
}

export interface LaneOutcomes {
  delivered(batch: Pending[]): Promise<void>;
  /** Given up after the last attempt or a refusal; parked with `reason`. */
  givenUp(batch: Pending[], reason: string): Promise<void>;
  /** Herald is stopping: handed back unsent. */
  handedBack(batch: Pending[]): Promise<void>;
  retried(batch: Pending[], reason: string, delayMs: number): void;
}

const targetKey = (t: CallbackTarget) => `${t.url} ${t.secrets.join(' ')}`;

export class CallbackLane {
  private readonly queue: Pending[] = [];
  private running?: Promise<void>;
  /**
   * The last batch used up every attempt without an answer worth having: the receiver is down.
   * Until a POST succeeds, each batch gets one attempt, so a down receiver's backlog is given up
   * (parked, replayable) in minutes instead of holding its events for an hour of backoffs.
   */
  private down = false;

  constructor(
    readonly appId: string,
    private readonly config: CallbackConfig,
    private readonly outcomes: LaneOutcomes,
    private readonly stopping: AbortSignal,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  push(pending: Pending): void {
    this.queue.push(pending);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once the lane is idle (after a stop: once what it held is handed back). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // A batch goes to one URL, signed one way: a callback changed meanwhile starts a new batch.
      const head = targetKey(this.queue[0]!.target);
      let n = 1;
      while (n < this.queue.length && n < MAX_BATCH && targetKey(this.queue[n]!.target) === head) n++;
      const batch = this.queue.splice(0, n);
      try {
        await this.send(batch);
      } catch (error) {
        // A bug here must not leave the batch held for ever: give it back to the group.
        this.log.error({ err: error, appId: this.appId }, 'callback lane failed; its events are handed back');
        await this.outcomes.handedBack(batch);
      }
    }
    // All sent or given up: the next event, whenever it comes, is tried in full again.
    this.down = false;
  }

  private async send(batch: Pending[]): Promise<void> {
    const { url, secrets } = batch[0]!.target;
    const body = JSON.stringify(batch.map((p) => p.item));
    const attempts = this.down ? 1 : this.config.maxAttempts;
    for (let attempt = 1; ; attempt++) {
      if (this.stopping.aborted) return await this.outcomes.handedBack(batch);
      // Signed afresh each attempt: receivers refuse old timestamps (replays), not slow retries.
      const timestamp = Math.floor(Date.now() / 1000);
      const result = await postCallback(url, body, { [SIGNATURE_HEADER]: signCallback(secrets, timestamp, body) }, this.config.timeoutMs, this.stopping);
      if (result.kind === 'delivered') {
        this.down = false;
        return await this.outcomes.delivered(batch);
      }
      if (result.kind === 'stopped') return await this.outcomes.handedBack(batch);
      if (result.kind === 'refused') return await this.outcomes.givenUp(batch, `${result.reason}; not retried`);
      if (attempt >= attempts) {
        const reason = this.down ? `${result.reason}, and the batch before was given up too (one attempt until the receiver answers again)` : `${result.reason} at attempt ${attempt} of ${attempts}`;
        this.down = true;
        return await this.outcomes.givenUp(batch, reason);
      }
      const delay = this.delayMs(attempt, result.retryAfterMs);
      this.outcomes.retried(batch, result.reason, delay);
      try {
        await sleep(delay, undefined, { signal: this.stopping });
      } catch {
        return await this.outcomes.handedBack(batch);
      }
    }
  }

  /**
   * Full jitter under base·2^(attempt−1), capped; never sooner than Retry-After, which is honoured
   * up to the cap too: the batch's events are held unacknowledged while it waits.
   */
  private delayMs(attempt: number, retryAfterMs: number | undefined): number {
    const { baseDelayMs, maxDelayMs } = this.config;
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    return Math.max(Math.floor(this.random() * ceiling), Math.min(retryAfterMs ?? 0, maxDelayMs));
  }
}
