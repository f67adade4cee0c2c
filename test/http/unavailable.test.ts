import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { createErrorHandler } from '../../src/http/problem.ts';
import { createLogger } from '../../src/logger.ts';
import { EventStoreUnavailableError, WrongExpectedRevisionError } from '../../src/ports/eventStore.ts';

describe('an event store that cannot record a command', () => {
  it('answers 503 with Retry-After and a machine-readable code, not a 500', async () => {
    const app = Fastify({ logger: false });
    app.setErrorHandler(createErrorHandler());
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

describe('an event store outage in the log', () => {
  it('is one error line a minute for the whole app with the requests it refused, not a line with a stack per request or per route plugin', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done(); } });
    const app = Fastify({ loggerInstance: createLogger('info', sink), disableRequestLogging: true });
    app.setErrorHandler(createErrorHandler());
    const refused = () => {
      throw new EventStoreUnavailableError('events.db: nothing was written (SQLITE_FULL: database or disk is full); free space there, then retry');
    };
    // As buildApp registers its routes: each resource a plugin (an encapsulated instance) of its own.
    await app.register(async (notifications) => notifications.post('/v1/notifications', async () => refused()));
    await app.register(async (users) => users.put('/v1/users/:userId', async () => refused()));
    try {
      for (let i = 0; i < 3; i++) assert.equal((await app.inject({ method: 'POST', url: '/v1/notifications', payload: {} })).statusCode, 503);
      for (let i = 0; i < 2; i++) assert.equal((await app.inject({ method: 'PUT', url: '/v1/users/u-1', payload: {} })).statusCode, 503);
      const outage = lines.map((l) => JSON.parse(l) as { msg: string; requests?: number; err?: { message: string } }).filter((l) => l.msg.startsWith('event store unavailable'));
      assert.equal(outage.length, 1, lines.join('\n'));
      assert.equal(outage[0]!.requests, 1);
      assert.match(outage[0]!.err!.message, /free space there, then retry/);
    } finally {
      await app.close();
    }
  });
});

describe('a stream other processes keep changing through every retry', () => {
  it('answers 409 concurrent_update with Retry-After, nothing written, not a 500', async () => {
    const app = Fastify({ logger: false });
    app.setErrorHandler(createErrorHandler());
    app.put('/v1/users/:userId', async () => {
      throw new WrongExpectedRevisionError('user-u-1', 7, 9);
    });
    try {
      const res = await app.inject({ method: 'PUT', url: '/v1/users/u-1', payload: {} });
      assert.equal(res.statusCode, 409);
      assert.equal(res.headers['retry-after'], '1');
      const body = res.json<{ code: string; detail: string }>();
      assert.equal(body.code, 'concurrent_update');
      assert.match(body.detail, /send it again$/);
      assert.doesNotMatch(body.detail, /user-u-1/, 'the stream name stays in the log');
    } finally {
      await app.close();
    }
  });
});
