import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { convertToCommandError, UnknownError } from '@eventstore/db-client';
import grpc from '@grpc/grpc-js';
import { createEsdbEventStore } from '../../src/adapters/eventStore/esdb/esdbEventStore.ts';
import { isMissingGroup, isTransient, toPortError } from '../../src/adapters/eventStore/esdb/errors.ts';
import { createSandboxProvider } from '../../src/adapters/providers/sandbox/sandboxProvider.ts';
import { EventStoreUnavailableError } from '../../src/ports/eventStore.ts';
import { DeliveryProcessor } from '../../src/processors/deliveryProcessor.ts';
import { ev, takeN, uniquePrefix } from '../contracts/eventStore.contract.ts';
import { commitTimeout, noLeaderInfo, notLeader, notReady } from '../fakes/esdb/faults.ts';
import { esdbError } from '../fakes/esdb/proto.ts';
import { esdbServer, recordingLogger } from '../support/esdbServer.ts';
import { capturingLogger } from '../support/logLines.ts';
import { eventually } from '../support/wait.ts';
import { appendEmailRequest } from '../support/emailRequest.ts';

const unavailable = (e: unknown) => e instanceof EventStoreUnavailableError && e.code === 'event_store_unavailable';

describe('EventStoreDB errors that mean "not now"', () => {
  it('a write timeout (ABORTED), a follower (not-leader), no leader yet, and a node not ready or busy are unavailable', () => {
    const sdk = [commitTimeout(), notLeader('127.0.0.1', 2113), noLeaderInfo(), notReady()].map((e) => convertToCommandError(e));
    assert.deepEqual(sdk.map((e) => (e as { type?: string }).type), ['timeout', 'not-leader', 'unknown', 'unavailable']);
    // batchAppend's answers for a node that cannot take the write now, as the SDK unpacks them.
    const batch = ['Server Is Not Ready', 'Server Is Busy', 'Server Is Too Busy'].map((m) => new UnknownError(undefined, `Could not recognize ${m}`));
    for (const error of [...sdk, ...batch]) {
      assert.equal(isTransient(error), true, String(error));
      assert.ok(unavailable(toPortError(error)), String(error));
    }
    assert.ok(unavailable(toPortError(Object.assign(new Error('10 ABORTED: Operation timed out'), { code: grpc.status.ABORTED }))), 'unconverted ABORTED');
  });

  it('what says something about the request is passed on as it is', () => {
    const missing = convertToCommandError(esdbError(grpc.status.NOT_FOUND, 'persistent-subscription-does-not-exist', 'Subscription group g on stream $all does not exist.', { 'stream-name': '$all', 'group-name': 'g' }));
    const denied = convertToCommandError(esdbError(grpc.status.PERMISSION_DENIED, 'access-denied', 'Access denied'));
    const other = new UnknownError(undefined, 'Could not recognize something else');
    // The group was deleted (recreated with another filter, perhaps): reconnecting could apply a stale filter.
    const dropped = convertToCommandError(esdbError(grpc.status.CANCELLED, 'persistent-subscription-dropped', 'Subscription group g on stream $all was deleted.', { 'stream-name': '$all', 'group-name': 'g' }));
    for (const error of [missing, denied, other, dropped, new Error('plain')]) {
      assert.equal(isTransient(error), false, String(error));
      assert.equal(toPortError(error), error);
    }
    assert.equal(isMissingGroup(missing), true);
  });
});

describe('EventStoreDB adapter: a node that cannot serve now', () => {
  it('an append whose commit times out rejects as unavailable, and the same append again goes through', async () => {
    const { server, cleanup } = await esdbServer();
    const store = createEsdbEventStore(server.url);
    try {
      const stream = `${uniquePrefix()}s`;
      const event = { ...ev('A', 1), id: '00000000-0000-4000-8000-0000000000a1' };
      server.faults.failNext('append', commitTimeout());
      await assert.rejects(store.append(stream, [event], 'any'), unavailable);
      await store.append(stream, [event], 'any');
      assert.deepEqual((await store.readStream(stream)).map((e) => e.data.n), [1]);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it('a persistent consumer whose reconnect meets a follower, then no leader, reconnects and goes on', async () => {
    const { server, cleanup } = await esdbServer();
    const warnings: string[] = [];
    const store = createEsdbEventStore(server.url, recordingLogger(warnings));
    try {
      const prefix = uniquePrefix();
      await store.ensurePersistentSubscription(`${prefix}g`, { filter: { streamPrefixes: [prefix] } });
      const sub = store.connectPersistentSubscription(`${prefix}g`);
      await store.append(`${prefix}1`, [ev('A', 1)], 'no_stream');
      await sub.ack((await takeN(sub, 1))[0]!);
      await eventually(3000, 'the ack to land', async () => ((await store.persistentSubscriptionInfo(`${prefix}g`)).inFlight === 0 ? true : undefined));
      // The node goes away; the next two connection attempts meet a follower and an election.
      server.faults.failNext('persistentRead', notLeader('127.0.0.1', server.port));
      server.faults.failNext('persistentRead', noLeaderInfo());
      server.dropConsumers(notReady());
      await store.append(`${prefix}2`, [ev('A', 2)], 'no_stream');
      const [next] = await takeN(sub, 1, 10_000);
      assert.equal(next?.event.data.n, 2);
      await sub.ack(next);
      assert.ok(warnings.filter((w) => w.includes('reconnecting')).length >= 3, warnings.join('\n'));
      await sub.close();
    } finally {
      await store.close();
      await cleanup();
    }
  });
});

describe('a delivery worker on EventStoreDB whose outcome append times out', () => {
  it('records the outcome again without sending again', async () => {
    const { dir, server, cleanup } = await esdbServer();
    const store = createEsdbEventStore(server.url);
    const outbox = join(dir, 'outbox.jsonl');
    const sandbox = createSandboxProvider('email', { outboxFile: outbox });
    // The provider accepts the message; the append that records it then times out once.
    const provider = { ...sandbox, send: async (...args: Parameters<typeof sandbox.send>) => { server.faults.failNext('append', commitTimeout()); return sandbox.send(...args); } };
    const { logger } = capturingLogger();
    const worker = new DeliveryProcessor({ events: store, provider, logger, now: () => new Date(), batchWindowMs: 1 });
    const id = '00000000-0000-4000-8000-0000000000b1';
    const at = new Date().toISOString();
    try {
      await appendEmailRequest(store, id, at);
      await worker.start();
      await eventually(10_000, 'the outcome recorded', async () => ((await store.readStream(`notification-${id}`)).some((e) => e.type === 'NotificationSent') ? true : undefined));
      await eventually(5000, 'the event acked', async () => ((await store.persistentSubscriptionInfo(worker.group)).inFlight === 0 ? true : undefined));
      const sent = (await readFile(outbox, 'utf8')).trim().split('\n');
      assert.equal(sent.length, 1, 'sent once, not again after the append timed out');
    } finally {
      await worker.stop();
      await store.close();
      await cleanup();
    }
  });
});
