import type { ReadModelStore } from '../ports/readModelStore.ts';
import { notificationLog } from '../projections/notificationLog.ts';

const DAY_MS = 86_400_000;

/**
 * Per-app daily send quota: notifications accepted per app per UTC day. Counted in memory, so a
 * check costs nothing; the first check of a day seeds the count from the notification log read
 * model, so a restart does not hand out a fresh quota. Several API processes each count what
 * they accept on top of that seed, so the limit is exact for one process and approximate (never
 * looser than N × quota) for N; docs/security.md says so.
 */
export class SendQuota {
  private readonly used = new Map<string, number>();
  private readonly seeding = new Map<string, Promise<number>>();

  constructor(
    readonly perDay: number,
    private readonly readModels: ReadModelStore,
    private readonly now: () => Date,
  ) {}

  private dayOf(at: Date): string {
    return at.toISOString().slice(0, 10);
  }

  /** Seconds until the quota resets (next UTC midnight): what Retry-After says. */
  secondsToReset(): number {
    const t = this.now().getTime();
    return Math.max(1, Math.ceil((Math.floor(t / DAY_MS + 1) * DAY_MS - t) / 1000));
  }

  private async usage(appId: string): Promise<{ key: string; count: number }> {
    const day = this.dayOf(this.now());
    const key = `${appId}|${day}`;
    const known = this.used.get(key);
    if (known !== undefined) return { key, count: known };
    let seed = this.seeding.get(key);
    if (!seed) {
      seed = this.readModels
        .count(notificationLog.collection.name, { where: { appId }, range: { field: 'requestedAt', gte: `${day}T00:00:00.000Z` } })
        .catch(() => 0);
      this.seeding.set(key, seed);
    }
    const count = await seed;
    this.seeding.delete(key);
    if (!this.used.has(key)) {
      this.prune(day);
      this.used.set(key, count);
    }
    return { key, count: this.used.get(key)! };
  }

  private prune(today: string): void {
    for (const key of this.used.keys()) if (!key.endsWith(`|${today}`)) this.used.delete(key);
  }

  /** How many notifications the app may still send today; 0 means refuse. */
  async remaining(appId: string): Promise<number> {
    if (this.perDay <= 0) return Number.POSITIVE_INFINITY;
    return Math.max(0, this.perDay - (await this.usage(appId)).count);
  }

  /** Counts what was accepted; called with the number of notifications in a 202 response. */
  async charge(appId: string, notifications: number): Promise<void> {
    if (this.perDay <= 0 || notifications <= 0) return;
    const { key, count } = await this.usage(appId);
    this.used.set(key, count + notifications);
  }
}
