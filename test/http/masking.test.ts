import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';
import { logStream } from '../support/logLines.ts';
import type { Harness } from './helpers.ts';

/** Product rule: no secret and no whole contact detail in a log line or an error body, whatever the client sent. */
describe('secrets and contact details in a request reach neither the log nor a problem body', () => {
  let h: Harness;
  const log = logStream();
  /** Every log line and the response body that hold `text`. */
  const holding = (text: string, body = '') => [...log.lines, body].filter((l) => l.includes(text));

  before(async () => {
    h = await startTestHerald({}, {}, log.stream);
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { email: 'ada@example.com' } });
  });
  after(async () => {
    await h.close();
  });

  it('a device token after a doubled slash (…/devices//<token>), in the 404 and the request line', async () => {
    const token = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
    await h.app.inject({ method: 'POST', url: '/v1/users/u-1/devices', headers: auth, payload: { platform: 'ios', token } });
    for (const url of [`/v1/users/u-1/devices//${token}`, `/v1/users/u-1/devices/${token}/`, `/v1/users/u-1//devices/${token}`, `/v1/users/u-1/devices%2F${token}`]) {
      const res = await h.app.inject({ method: 'DELETE', url, headers: auth });
      assert.equal(res.statusCode, 404, url);
      assert.deepEqual(holding(token, res.body), [], url);
    }
    assert.equal(log.lines.filter((l) => l.includes('/devices/')).length > 0, true, 'the requests were logged');
  });
});
