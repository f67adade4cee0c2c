/**
 * The client-application aggregate: one stream per app. An app holds the digests of its keys
 * (never a secret), the scopes it was granted, and whether it was revoked. Pure: decide and evolve.
 */
import { exhaustive } from './user.ts';

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
  | { type: 'AppRevoked'; data: { appId: string; at: string } };

export type AppCommand =
  | { type: 'CreateApp'; data: { appId: string; name: string; scopes: Scope[]; keyId: string; sha256: string } }
  | { type: 'RotateAppKey'; data: { appId: string; keyId: string; sha256: string; graceSeconds: number } }
  | { type: 'RevokeApp'; data: { appId: string } };

export interface AppState {
  exists: boolean;
  name: string;
  scopes: Scope[];
  revoked: boolean;
  keys: AppKey[];
  createdAt?: string;
}

export const initialAppState = (): AppState => ({ exists: false, name: '', scopes: [], revoked: false, keys: [] });

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

export function evolveApp(state: AppState, event: AppEvent): AppState {
  switch (event.type) {
    case 'AppCreated': {
      const { name, scopes, keyId, sha256, at } = event.data;
      return { exists: true, name, scopes, revoked: false, keys: [{ keyId, sha256 }], createdAt: at };
    }
    case 'AppKeyRotated': {
      const { keyId, sha256, previousKeyId, previousValidUntil, at } = event.data;
      // Keys already past their end are dropped so the state does not grow with every rotation.
      const kept = state.keys
        .map((k) => (k.keyId === previousKeyId ? { ...k, validUntil: previousValidUntil } : k))
        .filter((k) => k.validUntil === undefined || k.validUntil > at);
      return { ...state, keys: [...kept, { keyId, sha256 }] };
    }
    case 'AppRevoked':
      return { ...state, revoked: true, keys: [] };
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
    default:
      return exhaustive(command);
  }
}
