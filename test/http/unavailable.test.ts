import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { errorHandler } from '../../src/http/problem.ts';
import { EventStoreUnavailableError } from '../../src/ports/eventStore.ts';

describe('an event store that cannot record a command', () => {
  it('answers 503 with Retry-After and a machine-readable code, not a 500', async () => {
    const app = Fastify({ logger: false });
    app.setErrorHandler(errorHandler);
    app.post('/v1/notifications', async () => {
      throw new EventStoreUnavailableError('events.db: the commit could not be made durable (fdatasync of the WAL failed: EIO); check the disk, then retry');
    });
    try {
      const res = await app.inject({ method: 'POST', url: '/v1/notifications', payload: {} });
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['retry-after'], '1');
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      const body = res.json<{ code: string; detail: string }>();
      assert.equal(body.code, 'event_store_unavailable');
      assert.match(body.detail, /retry it \(with the same idempotency key\)/);
      assert.doesNotMatch(body.detail, /fdatasync|events\.db/, 'internals stay in the log');
    } finally {
      await app.close();
    }
  });
});
