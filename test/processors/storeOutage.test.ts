import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { createSandboxProvider } from '../../src/adapters/providers/sandbox/sandboxProvider.ts';
import { EventStoreUnavailableError, type EventStore } from '../../src/ports/eventStore.ts';
import { DeliveryProcessor } from '../../src/processors/deliveryProcessor.ts';
import { OutageWarnings } from '../../src/processors/storeOutage.ts';
import { capturingLogger } from '../support/logLines.ts';
import { refusing } from '../support/refusing.ts';
import { eventually } from '../support/wait.ts';
import { appendEmailRequest } from '../support/emailRequest.ts';

const at = '2026-11-29T05:00:00.000Z';
const id = '00000000-0000-4000-8000-000000000001';

/** The embedded store, with an outage switched on and off: while on, what it is asked to do fails as a full disk makes it fail. */
function withOutage(store: SqliteEventStore, failing: { appends: boolean; reads: number; refused?: number }): EventStore {
  const refuse = () => {
    failing.refused = (failing.refused ?? 0) + 1;
    return new EventStoreUnavailableError('events.db: nothing was written (SQLITE_FULL: database or disk is full); the disk … then retry');
  };
  return refusing(store, (method) => ((method === 'append' || method === 'appendInOrder') && failing.appends) || (method === 'readStream' && failing.reads > 0 && failing.reads-- > 0), refuse);
}

async function setUp() {
  const dir = await mkdtemp(join(tmpdir(), 'herald-outage-'));
  const store = new SqliteEventStore(join(dir, 'e.db'));
  await appendEmailRequest(store, id, at);
  const outbox = join(dir, 'outbox.jsonl');
  const sent = async () => (await readFile(outbox, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  return { dir, store, outbox, sent };
}

/** A worker on the store whose appends are refused (a full disk) until `failing.appends` is set false. */
function workerWithAppendsRefused(store: SqliteEventStore, outbox: string) {
  const failing: { appends: boolean; reads: number; refused?: number } = { appends: true, reads: 0 };
  const { logger, lines } = capturingLogger();
  const worker = new DeliveryProcessor({ events: withOutage(store, failing), provider: createSandboxProvider('email', { outboxFile: outbox }), logger, now: () => new Date(), batchWindowMs: 1 });
  return { failing, lines, worker };
}

describe('a delivery worker through an event store outage (a full disk)', () => {
  it('sends once, records the outcome when the store is back, and parks nothing', async () => {
    const { dir, store, outbox, sent } = await setUp();
    const { failing, lines, worker } = workerWithAppendsRefused(store, outbox);
    try {
      await worker.start();
      await eventually(5000, 'the email handed to the provider', async () => ((await sent()).length === 1 ? true : undefined));
      await eventually(5000, 'a second try at recording it', async () => ((failing.refused ?? 0) >= 2 ? true : undefined));
      failing.appends = false;
      await eventually(10_000, 'the outcome recorded', async () => ((await store.readStream(`notification-${id}`)).some((e) => e.type === 'NotificationSent') ? true : undefined));
      assert.equal((await sent()).length, 1, 'the provider was called once, not once per try');
      assert.deepEqual(await store.listParked(worker.group), []);
      // One warning for the outage, not one per try: the next would come a minute later.
      assert.deepEqual(lines.map((l) => [l.level, l.msg, l.obj.waitsSinceLastWarning]), [
        ['warn', 'the provider answered (sent) but the event store cannot record it now; recording it again in 1 s, without sending again (warned once a minute while the outage lasts)', 1],
      ]);
      await eventually(3000, 'the event acked', async () => ((await store.persistentSubscriptionInfo(worker.group)).inFlight === 0 ? true : undefined));
    } finally {
      await worker.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not park an event it could not read because the store was away: it tries again and delivers it', async () => {
    const { dir, store, outbox, sent } = await setUp();
    const { logger, lines } = capturingLogger();
    const worker = new DeliveryProcessor({ events: withOutage(store, { appends: false, reads: 1 }), provider: createSandboxProvider('email', { outboxFile: outbox }), logger, now: () => new Date(), batchWindowMs: 1 });
    try {
      await worker.start();
      await eventually(10_000, 'the email sent and recorded', async () => ((await store.readStream(`notification-${id}`)).some((e) => e.type === 'NotificationSent') ? true : undefined));
      assert.equal((await sent()).length, 1);
      assert.deepEqual(await store.listParked(worker.group), []);
      assert.deepEqual(lines.map((l) => [l.level, l.msg]), [['warn', 'the event store cannot be used now; this delivery is tried again in 1 s (warned once a minute while the outage lasts)']]);
    } finally {
      await worker.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a delivery worker stopped during an event store outage', () => {
  it('stops without waiting out the outage, and says the delivery it could not record is sent again at the next start', async () => {
    const { dir, store, outbox, sent } = await setUp();
    const { failing, lines, worker } = workerWithAppendsRefused(store, outbox);
    try {
      await worker.start();
      await eventually(5000, 'a first try at recording it', async () => ((failing.refused ?? 0) >= 1 ? true : undefined));
      await worker.stop();
      assert.equal((await sent()).length, 1);
      assert.ok(!(await store.readStream(`notification-${id}`)).some((e) => e.type === 'NotificationSent'), 'nothing recorded');
      assert.deepEqual(lines.filter((l) => l.msg?.startsWith('stopping')).map((l) => [l.level, l.msg, l.obj.outcome]), [
        ['warn', 'stopping while the event store cannot record this delivery: the provider had it, but it is handed out again at the next start and sent again then', 'sent'],
      ]);
      const [requested] = await store.readStream(`notification-${id}`);
      assert.ok((await store.persistentSubscriptionInfo(worker.group)).checkpoint < requested!.position, 'handed back, not acked: the checkpoint stays below it');
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('warnings through an outage', () => {
  it('the first at once, then at most one per interval, counting the waits it stood for', async () => {
    const { logger, lines } = capturingLogger();
    const warnings = new OutageWarnings(logger, 50);
    warnings.warn({ n: 1 }, 'away');
    warnings.warn({ n: 2 }, 'away');
    warnings.warn({ n: 3 }, 'away');
    await new Promise((r) => setTimeout(r, 70));
    warnings.warn({ n: 4 }, 'away');
    assert.deepEqual(lines.map((l) => [l.obj.n, l.obj.waitsSinceLastWarning]), [[1, 1], [4, 3]]);
  });
});
