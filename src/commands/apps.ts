import { createHash, randomBytes } from 'node:crypto';
import type { EventStore } from '../ports/eventStore.ts';
import type { IdGenerator } from '../ports/clock.ts';
import { appStream, decideApp, evolveApp, initialAppState, type AppCommand, type AppEvent, type AppState, type Scope } from '../domain/app.ts';
import type { CallbackOutcome } from '../domain/appCallback.ts';
import { handle, load, type Aggregate } from './handle.ts';
import { idempotentId } from './idempotentId.ts';

export const appAggregate: Aggregate<AppState, AppCommand, AppEvent> = { initial: initialAppState, evolve: evolveApp, decide: decideApp };

export interface AppsContext {
  store: EventStore;
  now: () => Date;
  ids: IdGenerator;
  metadata?: Record<string, unknown>;
}

/** A freshly minted credential: the only moment the secret exists outside the caller's hands. */
export interface IssuedKey {
  /** Public key id: safe to log, identifies the key. */
  appKey: string;
  /** 256 random bits; only its SHA-256 is stored. */
  secret: string;
  /** What the client sends: `Authorization: Bearer <appKey>.<secret>`. */
  token: string;
}

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Secrets are 256-bit random values, so a plain SHA-256 digest cannot be brute-forced and can be
 * checked per request in microseconds; a slow password hash would buy nothing here.
 */
export function mintKey(): IssuedKey & { sha256: string } {
  const appKey = `ak_${randomBytes(12).toString('hex')}`;
  const secret = `hs_${randomBytes(32).toString('base64url')}`;
  return { appKey, secret, token: `${appKey}.${secret}`, sha256: sha256Hex(secret) };
}

/**
 * Creates an app. With `idempotency` (the caller's Idempotency-Key, scoped to the caller) its id
 * is derived from the key, so a retried request cannot create a second app: it fails with
 * AppExistsError instead, since the first response's secret cannot be shown again.
 */
export async function createApp(ctx: AppsContext, input: { name: string; scopes: Scope[] }, idempotency?: { scope: string; key: string }): Promise<{ appId: string; createdAt: string; key: IssuedKey }> {
  const appId = idempotency ? idempotentId('app', idempotency.scope, idempotency.key) : ctx.ids.next();
  const { sha256, ...key } = mintKey();
  const scopes = [...new Set(input.scopes)].sort();
  const { state } = await handle(ctx.store, appStream(appId), appAggregate, { type: 'CreateApp', data: { appId, name: input.name, scopes, keyId: key.appKey, sha256 } }, ctx);
  return { appId, createdAt: state.createdAt ?? ctx.now().toISOString(), key };
}

export async function rotateAppKey(ctx: AppsContext, appId: string, graceSeconds: number): Promise<{ key: IssuedKey; previous?: { appKey: string; validUntil: string } }> {
  const { sha256, ...key } = mintKey();
  const { events } = await handle(ctx.store, appStream(appId), appAggregate, { type: 'RotateAppKey', data: { appId, keyId: key.appKey, sha256, graceSeconds } }, ctx);
  const rotated = events.find((e) => e.type === 'AppKeyRotated');
  return { key, ...(rotated?.data.previousKeyId ? { previous: { appKey: rotated.data.previousKeyId, validUntil: rotated.data.previousValidUntil } } : {}) };
}

export async function revokeApp(ctx: AppsContext, appId: string): Promise<void> {
  await handle(ctx.store, appStream(appId), appAggregate, { type: 'RevokeApp', data: { appId } }, ctx);
}

export async function loadApp(store: EventStore, appId: string): Promise<{ state: AppState; revision: number | 'no_stream' }> {
  return load(store, appStream(appId), appAggregate);
}

/** Sets (or changes) the app's status callback; returns the state after, for the response. */
export async function setAppCallback(ctx: AppsContext, appId: string, input: { url: string; events: CallbackOutcome[] }): Promise<AppState> {
  return (await handle(ctx.store, appStream(appId), appAggregate, { type: 'SetAppCallback', data: { appId, ...input } }, ctx)).state;
}

export async function clearAppCallback(ctx: AppsContext, appId: string): Promise<void> {
  await handle(ctx.store, appStream(appId), appAggregate, { type: 'ClearAppCallback', data: { appId } }, ctx);
}

export async function rotateCallbackSecret(ctx: AppsContext, appId: string): Promise<AppState> {
  return (await handle(ctx.store, appStream(appId), appAggregate, { type: 'RotateCallbackSecret', data: { appId } }, ctx)).state;
}
