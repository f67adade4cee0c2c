/**
 * Where an outcome's callback goes: the notification's app, from its NotificationRequested's
 * metadata (read once per notification, a bounded cache), and that app's URL and signing secrets
 * as AppKeys knows them now (secrets derived once per app and version).
 */
import type { EventStore } from '../ports/eventStore.ts';
import type { AppKeys } from '../http/appKeys.ts';
import type { CallbackOutcome } from '../domain/appCallback.ts';
import { notificationStream } from '../domain/notification.ts';
import type { RequestFacts } from '../callbacks/payload.ts';
import { callbackSecret } from '../callbacks/signature.ts';
import type { CallbackTarget } from './callbackLane.ts';

const REQUESTS_CACHED = 10_000;

export type AppTarget = { target: CallbackTarget; events: readonly CallbackOutcome[] } | null;

export class CallbackTargets {
  private readonly secrets = new Map<string, string>();
  private readonly requests = new Map<string, RequestFacts | null>();

  constructor(
    private readonly events: EventStore,
    private readonly apps: AppKeys,
    private readonly serverSecret: Buffer,
  ) {}

  /** The facts of the notification's request (its app among them), or null when it has none. */
  async requestOf(notificationId: string): Promise<RequestFacts | null> {
    const cached = this.requests.get(notificationId);
    if (cached !== undefined) return cached;
    const [first] = await this.events.readStream(notificationStream(notificationId), { maxCount: 1 });
    const data = first?.data as { userId?: string; channel?: string; category?: string } | undefined;
    const appId = first?.metadata.appId;
    const facts = first?.type === 'NotificationRequested' && typeof appId === 'string' && data ? { appId, userId: String(data.userId), channel: String(data.channel), category: String(data.category) } : null;
    if (this.requests.size >= REQUESTS_CACHED) this.requests.delete(this.requests.keys().next().value!);
    this.requests.set(notificationId, facts);
    return facts;
  }

  /** The app's callback now: its URL, the secrets that sign it (the previous one too, within its grace) and the outcomes it wants; null without one. */
  appOf(appId: string): AppTarget {
    const state = this.apps.get(appId);
    if (!state?.callback || state.revoked) return null;
    const versions = [state.callbackSecretVersion];
    const previous = state.previousCallbackSecret;
    if (previous && previous.validUntil > new Date().toISOString()) versions.push(previous.version);
    return { target: { url: state.callback.url, secrets: versions.map((v) => this.secretOf(appId, v)) }, events: state.callback.events };
  }

  private secretOf(appId: string, version: number): string {
    const key = `${appId}|${version}`;
    let secret = this.secrets.get(key);
    if (secret === undefined) this.secrets.set(key, (secret = callbackSecret(this.serverSecret, appId, version)));
    return secret;
  }
}
