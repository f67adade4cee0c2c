import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EventStore } from '../ports/eventStore.ts';
import { API_KEYS_STREAM } from '../domain/apiKey.ts';
import { decodeEvent, encodeEvent } from '../codec/events.ts';
import type { Logger } from '../ports/logger.ts';
import { SCOPES } from '../domain/app.ts';
import { AppKeys, type Principal } from './appKeys.ts';

const digest = (key: string) => createHash('sha256').update(key).digest();

/** The first-start / HERALD_API_KEY key: an operator's key, so it may do everything. */
const BOOTSTRAP: Principal = { appId: 'bootstrap', scopes: SCOPES, keyId: 'bootstrap' };

/**
 * Bearer API keys: the bootstrap key and every client app's keys (see appKeys.ts). Keys are
 * 256-bit random values, so a SHA-256 digest is enough to store them (no slow password hash
 * needed) and checking one costs microseconds, in constant time.
 */
export class ApiKeys {
  private digests: Buffer[] = [];
  readonly apps: AppKeys;

  constructor(private readonly events: EventStore, private readonly now: () => Date, logger?: Logger) {
    this.apps = new AppKeys(events, now, logger);
  }

  /** Loads the issued keys, and issues HERALD_API_KEY's when it is set and not issued yet. */
  async init(configuredKey?: string): Promise<void> {
    await this.reload();
    await this.apps.start();
    if (configuredKey && !this.verify(configuredKey)) await this.issue(configuredKey, 'HERALD_API_KEY');
  }

  /**
   * Issues a key when there is none at all, and returns it so that it can be shown once. Called
   * once the API listens: a start that fails before (a port in use) must not issue a key nobody
   * was shown, which would leave the next start with no key to show.
   */
  async issueFirstKey(): Promise<string | undefined> {
    if (this.digests.length > 0) return undefined;
    const key = `hk_${randomBytes(32).toString('base64url')}`;
    await this.issue(key, 'first-start');
    return key;
  }

  private async reload(): Promise<void> {
    const events = await this.events.readStream(API_KEYS_STREAM);
    this.digests = events.flatMap((e) => {
      const event = decodeEvent(e);
      return event?.type === 'ApiKeyIssued' ? [Buffer.from(event.data.sha256, 'hex')] : [];
    });
  }

  private async issue(key: string, label: string): Promise<void> {
    const sha256 = digest(key).toString('hex');
    const event = { type: 'ApiKeyIssued' as const, data: { keyId: sha256.slice(0, 12), sha256, label, at: this.now().toISOString() } };
    await this.events.append(API_KEYS_STREAM, [encodeEvent(event)], 'any');
    this.digests.push(Buffer.from(sha256, 'hex'));
  }

  /** Who presented this bearer token: an app, the bootstrap operator, or nobody (null). */
  authenticate(token: string): Principal | null {
    if (token.startsWith('ak_')) return this.apps.authenticate(token);
    return this.verify(token) ? BOOTSTRAP : null;
  }

  async close(): Promise<void> {
    await this.apps.close();
  }

  verify(key: string): boolean {
    const presented = digest(key);
    let found = false;
    for (const d of this.digests) found = timingSafeEqual(d, presented) || found;
    return found;
  }
}
