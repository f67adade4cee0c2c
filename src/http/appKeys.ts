import { createHash, timingSafeEqual } from 'node:crypto';
import type { EventStore, RecordedEvent, Subscription } from '../ports/eventStore.ts';
import type { Logger } from '../ports/logger.ts';
import { decodeEvent } from '../codec/events.ts';
import { evolveApp, initialAppState, type AppEvent, type AppState, type Scope } from '../domain/app.ts';
import { loadApp } from '../commands/apps.ts';

export const APP_EVENT_TYPES = ['AppCreated', 'AppKeyRotated', 'AppRevoked', 'AppCallbackSet', 'AppCallbackCleared', 'AppCallbackSecretRotated'] as const;

export interface Principal {
  appId: string;
  scopes: readonly Scope[];
  /** The key that authenticated the request (the public part only). */
  keyId: string;
}

interface Cached {
  state: AppState;
  revision: number;
}

/**
 * Every app's keys, in memory, so a request is checked with one map lookup, one SHA-256 and one
 * constant-time compare. The cache follows the app events in $all, so keys issued or revoked by
 * another API process reach this one within a subscription round trip; changes made through this
 * process are applied before the command's response is sent (`refresh`), so a revoked key stops
 * working here at once.
 */
export class AppKeys {
  private readonly apps = new Map<string, Cached>();
  private readonly byKeyId = new Map<string, string>();
  private readonly withCallback = new Set<string>();
  private sub?: Subscription<RecordedEvent>;
  private following?: Promise<void>;

  constructor(private readonly events: EventStore, private readonly now: () => Date, private readonly logger?: Logger) {}

  async start(): Promise<void> {
    const filter = { eventTypes: APP_EVENT_TYPES };
    let from = 0;
    for (;;) {
      const page = await this.events.readAll({ fromPosition: from, maxCount: 1000, filter });
      for (const e of page) this.apply(e);
      if (page.length < 1000) break;
      from = page.at(-1)!.position;
    }
    const sub = this.events.subscribeToAll({ fromPosition: from, filter });
    this.sub = sub;
    this.following = this.follow(sub);
  }

  private async follow(sub: Subscription<RecordedEvent>): Promise<void> {
    try {
      for await (const e of sub) {
        if (!this.apply(e)) await this.refresh(String((e.data as { appId?: unknown }).appId));
      }
    } catch (error) {
      this.logger?.error({ err: error }, 'app key subscription ended; keys issued elsewhere will not be seen until restart');
    }
  }

  /** Applies an event when it is the next one of its stream; false when the stream must be re-read. */
  private apply(raw: RecordedEvent): boolean {
    const event = decodeEvent(raw);
    if (!event || !(APP_EVENT_TYPES as readonly string[]).includes(event.type)) return true;
    const appEvent = event as unknown as AppEvent;
    const cached = this.apps.get(appEvent.data.appId);
    const expected = cached ? cached.revision + 1 : 0;
    if (raw.revision < expected) return true;
    if (raw.revision > expected) return false;
    this.set(appEvent.data.appId, { state: evolveApp(cached?.state ?? initialAppState(), appEvent), revision: raw.revision });
    return true;
  }

  /** Re-reads one app's stream; called after this process changed the app. */
  async refresh(appId: string): Promise<void> {
    const { state, revision } = await loadApp(this.events, appId);
    if (revision === 'no_stream') return;
    const cached = this.apps.get(appId);
    if (!cached || cached.revision < revision) this.set(appId, { state, revision });
  }

  private set(appId: string, entry: Cached): void {
    for (const k of this.apps.get(appId)?.state.keys ?? []) this.byKeyId.delete(k.keyId);
    this.apps.set(appId, entry);
    for (const k of entry.state.keys) this.byKeyId.set(k.keyId, appId);
    if (entry.state.callback) this.withCallback.add(appId);
    else this.withCallback.delete(appId);
  }

  /** Whether any app has a status callback: when none has, the callback processor reads nothing. */
  get anyCallback(): boolean {
    return this.withCallback.size > 0;
  }

  get(appId: string): AppState | undefined {
    return this.apps.get(appId)?.state;
  }

  list(): { appId: string; state: AppState }[] {
    return [...this.apps].map(([appId, c]) => ({ appId, state: c.state }));
  }

  /** `<appKey>.<secret>` → who it is, or null. Unknown, expired and revoked keys look the same. */
  authenticate(token: string): Principal | null {
    const dot = token.indexOf('.');
    if (dot <= 0) return null;
    const keyId = token.slice(0, dot);
    const appId = this.byKeyId.get(keyId);
    const app = appId ? this.apps.get(appId)?.state : undefined;
    const key = app?.keys.find((k) => k.keyId === keyId);
    if (!appId || !app || !key || app.revoked) return null;
    const presented = createHash('sha256').update(token.slice(dot + 1)).digest();
    if (!timingSafeEqual(presented, Buffer.from(key.sha256, 'hex'))) return null;
    if (key.validUntil !== undefined && Date.parse(key.validUntil) <= this.now().getTime()) return null;
    return { appId, scopes: app.scopes, keyId };
  }

  async close(): Promise<void> {
    await this.sub?.close();
    await this.following;
  }
}
