import assert from 'node:assert/strict';
import type { Scope } from '../../src/domain/app.ts';
import { auth, type startTestHerald } from '../support/herald.ts';

export type Harness = Awaited<ReturnType<typeof startTestHerald>>;
export type CreatedApp = { appId: string; appKey: string; secret: string; token: string; scopes: Scope[] };

/** Creates a client app with the bootstrap (admin) key and returns its one-time credentials. */
export async function createApp(h: Harness, scopes: Scope[], name = `app-${scopes.join('-')}`): Promise<CreatedApp> {
  const res = await h.app.inject({ method: 'POST', url: '/v1/apps', headers: auth, payload: { name, scopes } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<CreatedApp>();
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
