import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEsdbEventStore } from '../../src/adapters/eventStore/esdb/esdbEventStore.ts';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { ParkedEventsUnreadableError } from '../../src/ports/eventStore.ts';
import { DeadLetterAlert } from '../../src/processors/deadLetterAlert.ts';
import { deadLetters } from '../../src/projections/deadLetters.ts';
import { ROUTES } from '../../src/ports/deliveryProvider.ts';
import { LANES } from '../../src/processors/deliveryGroups.ts';
import { accessDenied } from '../fakes/esdb/faults.ts';
import { esdbServer } from '../support/esdbServer.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { capturingLogger } from '../support/logLines.ts';
import type { EsdbTestServer } from '../fakes/esdb/server.ts';

/** Every delivery group's parked list is read once per listing: each read is denied, or (`take`) the denials not used are dropped. */
const GROUP_COUNT = ROUTES.length * LANES.length;
const denyParkedReads = (server: EsdbTestServer) => Array.from({ length: GROUP_COUNT }, () => server.faults.failNext('readParked', accessDenied()));
const clearDenials = (server: EsdbTestServer) => Array.from({ length: GROUP_COUNT }, () => server.faults.take('readParked'));

/** Credentials that may not read parked events (an EventStoreDB user outside $ops and $admins): said so, never read as "nothing parked". */
describe('parked events the event store will not show to these credentials', () => {
  it('the store says why; GET /v1/dead-letters still lists the failed ones and says parked is unknown; a replay is a 503 naming the fix', async () => {
    const { server, cleanup } = await esdbServer();
    const h = await startTestHerald({ HERALD_EVENT_STORE: 'eventstoredb', EVENTSTORE_URL: server.url });
    try {
      server.faults.failNext('readParked', accessDenied());
      await assert.rejects(h.herald.events.listParked('delivery-sms'), (e) => e instanceof ParkedEventsUnreadableError && /\$ops or \$admins/.test(e.message));
      denyParkedReads(server);
      const listed = await h.app.inject({ method: 'GET', url: '/v1/dead-letters', headers: auth });
      assert.equal(listed.statusCode, 200, listed.body);
      const body = listed.json<{ deadLetters: unknown[]; parked: unknown[]; parkedUnreadable?: string }>();
      assert.deepEqual([body.deadLetters, body.parked], [[], []]);
      assert.match(body.parkedUnreadable ?? '', /refused to list the parked events of delivery-\w+.*read access/);
      clearDenials(server);
      const again = await h.app.inject({ method: 'GET', url: '/v1/dead-letters', headers: auth });
      assert.equal(again.json<{ parkedUnreadable?: string }>().parkedUnreadable, undefined, 'readable again: nothing to say');

      server.faults.failNext('replayParked', accessDenied());
      const replay = await h.app.inject({ method: 'POST', url: '/v1/dead-letters/redrive', headers: auth, payload: { includeParked: true } });
      assert.equal(replay.statusCode, 503, replay.body);
      const problem = replay.json<{ code: string; detail: string; redriven: number }>();
      assert.deepEqual([problem.code, problem.redriven], ['parked_events_unreadable', 0]);
      assert.match(problem.detail, /^0 failed deliveries were redriven, but the event store refused/);
    } finally {
      await h.close();
      await cleanup();
    }
  });

  it('the dead-letter alert counts the failed ones alone meanwhile, and says why once, not at every check', async () => {
    const { server, dir, cleanup } = await esdbServer();
    const events = createEsdbEventStore(server.url);
    const readModels = new SqliteReadModelStore(`${dir}/r.db`);
    const { logger, lines } = capturingLogger();
    const alert = new DeadLetterAlert(events, readModels, logger, { threshold: 1 });
    try {
      await readModels.ensureCollection(deadLetters.collection);
      await readModels.commit([{ collection: deadLetters.collection.name, id: 'n1:sms', doc: { channel: 'sms', route: 'sms', reason: 'http_503', failedAt: '2026-11-23T10:00:00.000Z' }, position: 1 }]);
      for (let check = 0; check < 3; check++) {
        denyParkedReads(server);
        assert.equal(await alert.check(), 1, 'the failed delivery still raises the alert');
        clearDenials(server);
      }
      const errors = lines.filter((l) => l.level === 'error').map((l) => l.msg ?? '');
      assert.equal(errors.filter((m) => m.startsWith('cannot count parked events')).length, 1, errors.join('\n'));
      assert.match(errors.find((m) => m.startsWith('cannot count parked events'))!, /until this is fixed the dead-letter alert counts failed deliveries only/);
      assert.equal(errors.filter((m) => m.startsWith('dead letters (1) reached')).length, 1);
      // Readable again, then refused again: a new episode, said once more.
      assert.equal(await alert.check(), 1);
      denyParkedReads(server);
      await alert.check();
      clearDenials(server);
      assert.equal(lines.filter((l) => l.level === 'error' && (l.msg ?? '').startsWith('cannot count parked events')).length, 2);
    } finally {
      alert.stop();
      await readModels.close();
      await events.close();
      await cleanup();
    }
  });
});
