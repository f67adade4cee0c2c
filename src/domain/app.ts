/**
 * The client-application aggregate: one stream per app. An app holds the digests of its keys
 * (never a secret), the scopes it was granted, whether it was revoked, and its status callback
 * (appCallback.ts) with the version of the callback's signing secret, which is derived from the
 * server's secret and never stored. Pure: decide and evolve.
 */
import { exhaustive } from './exhaustive.ts';
import { CALLBACK_OUTCOMES, callbackUrlProblem, InvalidCallbackUrlError, type AppCallback, type CallbackOutcome } from './appCallback.ts';

export const appStream = (appId: string) => `app-${appId}`;

export const SCOPES = ['send', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** A key as stored: its public id, the SHA-256 of its secret, and, once rotated away, its end. */
export interface AppKey {
  keyId: string;
  sha256: string;
  /** ISO time after which the key no longer works; absent for the current key. */
  validUntil?: string;
}

export type AppEvent =
  | { type: 'AppCreated'; data: { appId: string; name: string; scopes: Scope[]; keyId: string; sha256: string; at: string } }
  | { type: 'AppKeyRotated'; data: { appId: string; keyId: string; sha256: string; previousKeyId: string; previousValidUntil: string; at: string } }
  | { type: 'AppRevoked'; data: { appId: string; at: string } }
  /** `secretVersion`: which derived secret signs the callbacks (kept when the URL changes; see AppCallbackSecretRotated). */
  | { type: 'AppCallbackSet'; data: { appId: string; url: string; events: CallbackOutcome[]; secretVersion: number; at: string } }
  | { type: 'AppCallbackCleared'; data: { appId: string; at: string } }
  /** Callbacks are signed with the previous version too until `previousValidUntil`, so receivers can switch without losing any. */
  | { type: 'AppCallbackSecretRotated'; data: { appId: string; secretVersion: number; previousValidUntil: string; at: string } };

export type AppCommand =
  | { type: 'CreateApp'; data: { appId: string; name: string; scopes: Scope[]; keyId: string; sha256: string } }
  | { type: 'RotateAppKey'; data: { appId: string; keyId: string; sha256: string; graceSeconds: number } }
  | { type: 'RevokeApp'; data: { appId: string } }
  /** `events`: the outcomes wanted; empty means all of them. */
  | { type: 'SetAppCallback'; data: { appId: string; url: string; events: CallbackOutcome[] } }
  | { type: 'ClearAppCallback'; data: { appId: string } }
  | { type: 'RotateCallbackSecret'; data: { appId: string } };

export interface AppState {
  exists: boolean;
  name: string;
  scopes: Scope[];
  revoked: boolean;
  keys: AppKey[];
  createdAt?: string;
  callback?: AppCallback;
  /** The callback secret's version: 0 until a callback is first set; it never goes back, so a cleared and set again callback keeps its secret. */
  callbackSecretVersion: number;
  /** The version before the last rotation, still signing until `validUntil`. */
  previousCallbackSecret?: { version: number; validUntil: string };
}

/** How long a rotated-away callback secret still signs (as a second v1 in the header). */
export const CALLBACK_SECRET_GRACE_MS = 24 * 3600_000;

export const initialAppState = (): AppState => ({ exists: false, name: '', scopes: [], revoked: false, keys: [], callbackSecretVersion: 0 });

export class AppNotFoundError extends Error {
  readonly code = 'app_not_found';
  constructor(readonly appId: string) {
    super(`no app ${appId}`);
  }
}

export class AppRevokedError extends Error {
  readonly code = 'app_revoked';
  constructor(readonly appId: string) {
    super(`app ${appId} is revoked; create a new app instead`);
  }
}

export class AppExistsError extends Error {
  readonly code = 'app_exists';
  constructor(readonly appId: string) {
    super(`app ${appId} already exists`);
  }
}

export class CallbackNotSetError extends Error {
  readonly code = 'callback_not_set';
  constructor(readonly appId: string) {
    super(`app ${appId} has no callback; set one with PUT /v1/apps/${appId}/callback`);
  }
}

export function evolveApp(state: AppState, event: AppEvent): AppState {
  switch (event.type) {
    case 'AppCreated': {
      const { name, scopes, keyId, sha256, at } = event.data;
      return { exists: true, name, scopes, revoked: false, keys: [{ keyId, sha256 }], createdAt: at, callbackSecretVersion: 0 };
    }
    case 'AppKeyRotated': {
      const { keyId, sha256, previousKeyId, previousValidUntil, at } = event.data;
      // Keys already past their end are dropped so the state does not grow with every rotation.
      const kept = state.keys
        .map((k) => (k.keyId === previousKeyId ? { ...k, validUntil: previousValidUntil } : k))
        .filter((k) => k.validUntil === undefined || k.validUntil > at);
      return { ...state, keys: [...kept, { keyId, sha256 }] };
    }
    case 'AppRevoked': {
      // A revoked app is told nothing more.
      const { callback: _dropped, ...rest } = state;
      return { ...rest, revoked: true, keys: [] };
    }
    case 'AppCallbackSet':
      return { ...state, callback: { url: event.data.url, events: event.data.events }, callbackSecretVersion: event.data.secretVersion };
    case 'AppCallbackCleared': {
      const { callback: _cleared, ...rest } = state;
      return rest;
    }
    case 'AppCallbackSecretRotated':
      return { ...state, callbackSecretVersion: event.data.secretVersion, previousCallbackSecret: { version: state.callbackSecretVersion, validUntil: event.data.previousValidUntil } };
    default:
      return exhaustive(event);
  }
}

export function decideApp(command: AppCommand, state: AppState, now: string): AppEvent[] {
  switch (command.type) {
    case 'CreateApp':
      if (state.exists) throw new AppExistsError(command.data.appId);
      return [{ type: 'AppCreated', data: { ...command.data, at: now } }];
    case 'RotateAppKey': {
      if (!state.exists) throw new AppNotFoundError(command.data.appId);
      if (state.revoked) throw new AppRevokedError(command.data.appId);
      const current = state.keys.find((k) => k.validUntil === undefined);
      const { appId, keyId, sha256, graceSeconds } = command.data;
      const previousValidUntil = new Date(Date.parse(now) + graceSeconds * 1000).toISOString();
      return [{ type: 'AppKeyRotated', data: { appId, keyId, sha256, previousKeyId: current?.keyId ?? '', previousValidUntil, at: now } }];
    }
    case 'RevokeApp':
      if (!state.exists) throw new AppNotFoundError(command.data.appId);
      // Revoking twice is a no-op, so a retried DELETE is safe.
      return state.revoked ? [] : [{ type: 'AppRevoked', data: { appId: command.data.appId, at: now } }];
    case 'SetAppCallback':
    case 'ClearAppCallback':
    case 'RotateCallbackSecret':
      return decideCallback(command, state, now);
    default:
      return exhaustive(command);
  }
}

type CallbackCommand = Extract<AppCommand, { type: 'SetAppCallback' | 'ClearAppCallback' | 'RotateCallbackSecret' }>;

function decideCallback(command: CallbackCommand, state: AppState, now: string): AppEvent[] {
  const { appId } = command.data;
  if (!state.exists) throw new AppNotFoundError(appId);
  switch (command.type) {
    case 'SetAppCallback': {
      if (state.revoked) throw new AppRevokedError(appId);
      const problem = callbackUrlProblem(command.data.url);
      if (problem) throw new InvalidCallbackUrlError(problem);
      const wanted = new Set(command.data.events.length > 0 ? command.data.events : CALLBACK_OUTCOMES);
      const events = CALLBACK_OUTCOMES.filter((o) => wanted.has(o));
      // The same callback again (a retried PUT) changes nothing.
      if (state.callback?.url === command.data.url && state.callback.events.join() === events.join()) return [];
      return [{ type: 'AppCallbackSet', data: { appId, url: command.data.url, events, secretVersion: Math.max(1, state.callbackSecretVersion), at: now } }];
    }
    case 'ClearAppCallback':
      // Clearing twice is a no-op, so a retried DELETE is safe.
      return state.callback ? [{ type: 'AppCallbackCleared', data: { appId, at: now } }] : [];
    case 'RotateCallbackSecret':
      if (state.revoked) throw new AppRevokedError(appId);
      if (!state.callback) throw new CallbackNotSetError(appId);
      return [{ type: 'AppCallbackSecretRotated', data: { appId, secretVersion: state.callbackSecretVersion + 1, previousValidUntil: new Date(Date.parse(now) + CALLBACK_SECRET_GRACE_MS).toISOString(), at: now } }];
    default:
      return exhaustive(command);
  }
}
