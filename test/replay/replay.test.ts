import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { HERALD_EVENT_TYPES } from '../../src/codec/events.ts';
import { createLogger } from '../../src/logger.ts';
import { checkpointName, Projector } from '../../src/processors/projector.ts';
import { PositionSearchInterruptedError, positionAt, rebuild, rebuildAll, RebuildInterruptedError } from '../../src/processors/rebuild.ts';
import { PROJECTIONS } from '../../src/projections/index.ts';
import { eventually } from '../support/wait.ts';
import { writeLog } from './eventLog.ts';

const EVENTS = Number(process.env.HERALD_REPLAY_TEST_EVENTS ?? 100_000);
const logger = createLogger('silent');
type Row = { id: string; position: number; doc: string | null };

/** Every row of a collection's table, tombstones included: the strictest comparison there is. */
function dump(file: string, collection: string): Row[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT id, position, doc FROM rm_${collection} ORDER BY id`).all() as Row[];
  } finally {
    db.close();
  }
}

describe(`replay rebuilds exactly what the live projections built (${EVENTS} events)`, () => {
  let dir: string;
  let events: SqliteEventStore;
  let readModels: SqliteReadModelStore;
  let readFile: string;
  const live = new Map<string, Row[]>();
  const timings: Record<string, number> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-replay-'));
    readFile = join(dir, 'read-models.db');
    events = new SqliteEventStore(join(dir, 'events.db'));
    readModels = new SqliteReadModelStore(readFile);
    let t = Date.now();
    const byType = await writeLog(events, EVENTS);
    timings.append = Date.now() - t;
    const missing = HERALD_EVENT_TYPES.filter((type) => !byType.has(type));
    assert.deepEqual(missing, [], `the generated log must hold every event type; add samples for ${missing.join(', ')} in eventLog.ts`);
    t = Date.now();
    const projector = new Projector(events, readModels, PROJECTIONS, logger);
    await projector.start();
    const head = await events.headPosition();
    const targets = await Promise.all(PROJECTIONS.map((p) => lastPositionOf(p.eventTypes, head)));
    await eventually(120_000, 'live projections at the head', async () => {
      const at = await Promise.all(PROJECTIONS.map((p) => readModels.getCheckpoint(checkpointName(p))));
      return at.every((position, i) => position >= targets[i]!) ? true : undefined;
    });
    await projector.stop();
    timings.live = Date.now() - t;
    for (const p of PROJECTIONS) live.set(p.name, dump(readFile, p.collection.name));
  });

  /** The last event a projection subscribes to: looked for near the head first, to keep it cheap. */
  async function lastPositionOf(types: readonly string[], head: number): Promise<number> {
    for (const window of [2000, 20_000, head]) {
      const found = await events.readAll({ fromPosition: Math.max(0, head - window), filter: { eventTypes: types } });
      if (found.length > 0 || window === head) return found.at(-1)?.position ?? 0;
    }
    return 0;
  }

  after(async () => {
    await events?.close();
    await readModels?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Asserts every read model holds exactly what the live projector built, tombstones and positions included. */
  function assertIdentical(): void {
    for (const p of PROJECTIONS) {
      const rebuilt = dump(readFile, p.collection.name);
      assert.ok(live.get(p.name)!.length > 0, `${p.name} has documents`);
      assert.equal(rebuilt.length, live.get(p.name)!.length, `${p.name}: same number of documents`);
      assert.deepEqual(rebuilt, live.get(p.name), `${p.name}: every document identical, position included`);
    }
  }

  it('builds every read model in one pass into copies while the live ones keep serving, then swaps to identical documents', async () => {
    const head = await events.headPosition();
    assert.ok(head >= EVENTS, `log has ${head} events`);
    const t = Date.now();
    let checkedLive = false;
    const results = await rebuildAll(events, readModels, PROJECTIONS, logger, {
      onProgress: () => {
        if (checkedLive) return;
        checkedLive = true;
        for (const p of PROJECTIONS) assert.equal(dump(readFile, p.collection.name).length, live.get(p.name)!.length, `${p.name} keeps serving during the build`);
      },
    });
    timings.replay = Date.now() - t;
    assert.ok(checkedLive);
    for (const [i, p] of PROJECTIONS.entries()) {
      assert.equal(results[i]!.swapped, true);
      assert.equal(await readModels.getCheckpoint(checkpointName(p)), results[i]!.position);
    }
    assertIdentical();
    const applied = results.reduce((sum, r) => sum + r.events, 0);
    process.stderr.write(`replay test: ${head} events appended in ${timings.append} ms; live projection ${timings.live} ms; replay of all ${PROJECTIONS.length} read models ` +
      `(${applied} projection events) in one pass ${timings.replay} ms = ${Math.round(head / (timings.replay / 1000))} log events/s\n`);
  });

  it('builds the same documents reading the whole log in order (a store that cannot read it stream by stream), with a small cache that evicts after every flush and reads evicted documents back', async () => {
    await rebuildAll(events, readModels, PROJECTIONS, logger, { inLogOrder: true, batchSize: 1000, flushEvents: 3000, maxDocs: 50 });
    assertIdentical();
  });

  it('reads the log stream by stream for the stream-local read models, and in order for the others', async () => {
    const readInOrder: string[] = [];
    let streamPages = 0;
    const counting = Object.create(events, {
      readStreamsInOrder: { value: (o: Parameters<NonNullable<SqliteEventStore['readStreamsInOrder']>>[0]) => ((streamPages += 1), events.readStreamsInOrder(o)) },
      readAll: { value: (o: Parameters<SqliteEventStore['readAll']>[0]) => events.readAll(o).then((page) => (readInOrder.push(...page.map((e) => e.type)), page)) },
    }) as SqliteEventStore;
    await rebuildAll(counting, readModels, PROJECTIONS, logger);
    assert.ok(streamPages > 1, 'stream-local read models were read stream by stream');
    const others = new Set<string>(PROJECTIONS.filter((p) => !p.streamLocal).flatMap((p) => p.eventTypes));
    const onlyLocal = new Set<string>(PROJECTIONS.filter((p) => p.streamLocal).flatMap((p) => p.eventTypes).filter((t) => !others.has(t)));
    assert.ok(readInOrder.length > 0, 'the other read models were read in log order');
    assert.deepEqual(readInOrder.filter((t) => onlyLocal.has(t)), [], 'no event only stream-local read models take is read in order again');
    assertIdentical();
  });

  it('reports a position that never goes back, though the log-order part reads the log from its start after the stream passes', async () => {
    const positions: number[] = [];
    await rebuildAll(events, readModels, PROJECTIONS, logger, { onProgress: (p) => positions.push(p.position) });
    const head = await events.headPosition();
    assert.ok(positions.length > 10, `progress was reported (${positions.length} times)`);
    const back = positions.findIndex((p, i) => i > 0 && p < positions[i - 1]!);
    assert.equal(back, -1, `position went from ${positions[back - 1]} back to ${positions[back]}`);
    assert.equal(positions.at(-1), head, 'the last report is at the head');
    assertIdentical();
  });

  it('reads the others in log order while the stream-by-stream builds\' last pages are still being written, and builds the same documents', async () => {
    // Commits of the stream-local builds take 40 ms: their last pages are still in flight when the
    // stream pass has read its last stream. What happened in which order is logged.
    const local = new Set(PROJECTIONS.filter((p) => p.streamLocal).map((p) => p.collection.name));
    const log: string[] = [];
    const slow = Object.create(readModels, {
      commit: {
        value: async (...args: Parameters<SqliteReadModelStore['commit']>) => {
          const stream = args[0].some((c) => local.has(c.collection.replace(/__build$/, '')));
          if (stream) await new Promise((resolve) => setTimeout(resolve, 40));
          await readModels.commit(...args);
          if (stream) log.push('stream pages written');
        },
      },
    }) as SqliteReadModelStore;
    const watched = Object.create(events, {
      readAll: { value: (o: Parameters<SqliteEventStore['readAll']>[0]) => (log.push('log read in order'), events.readAll(o)) },
    }) as SqliteEventStore;
    await rebuildAll(watched, slow, PROJECTIONS, logger);
    const firstInOrder = log.indexOf('log read in order');
    assert.ok(firstInOrder >= 0 && log.lastIndexOf('stream pages written') > firstInOrder, 'the log-order read began before the last stream pages were written');
    assertIdentical();
  });

  it('builds the same documents with its commits written on a commit thread while the pass goes on, evicted documents read back meanwhile', async () => {
    const threaded = new SqliteReadModelStore(readFile, undefined, { commitThread: true, inlineCommitDocs: 0 });
    try {
      await rebuildAll(events, threaded, PROJECTIONS, logger, { batchSize: 1000, flushEvents: 3000, maxDocs: 50 });
    } finally {
      await threaded.close();
    }
    assertIdentical();
  });

  it('resumes a rebuild interrupted in log order from each build checkpoint and still builds identical documents', async () => {
    const aborter = new AbortController();
    let pages = 0;
    await assert.rejects(
      rebuildAll(events, readModels, PROJECTIONS, logger, { inLogOrder: true, batchSize: 1000, flushEvents: 2000, signal: aborter.signal, onProgress: () => (++pages === 5 ? aborter.abort() : undefined) }),
      RebuildInterruptedError,
    );
    for (const p of PROJECTIONS) assert.deepEqual(dump(readFile, p.collection.name), live.get(p.name), `the live ${p.name} is untouched by the interrupted build`);
    const resumed = await rebuildAll(events, readModels, PROJECTIONS, logger, { inLogOrder: true });
    assert.ok(resumed.some((r) => r.resumedFrom > 0), 'resumed rather than started over');
    assertIdentical();
  });

  it('resumes a rebuild interrupted stream by stream after the last stream each build wrote, builds at different streams included', async () => {
    const local = PROJECTIONS.filter((p) => p.streamLocal);
    const interrupted = async (projections: typeof PROJECTIONS, afterPages: number) => {
      const aborter = new AbortController();
      let pages = 0;
      await assert.rejects(
        rebuildAll(events, readModels, projections, logger, { signal: aborter.signal, onProgress: () => (++pages === afterPages ? aborter.abort() : undefined) }),
        RebuildInterruptedError,
      );
    };
    // The notification log gets further first, so the next run's builds start at different streams.
    await interrupted([local[0]!], 3);
    await interrupted(local, 2);
    for (const p of PROJECTIONS) assert.deepEqual(dump(readFile, p.collection.name), live.get(p.name), `the live ${p.name} is untouched by the interrupted build`);
    const resumed = await rebuildAll(events, readModels, PROJECTIONS, logger);
    const afterStream = resumed.filter((r) => (r.resumedAfterStreamAt ?? 0) > 0);
    assert.equal(afterStream.length, local.length, 'every stream-local build resumed stream by stream');
    assert.ok(new Set(afterStream.map((r) => r.resumedAfterStreamAt)).size > 1, 'builds resumed at different streams');
    assertIdentical();
  });

  it('--until builds a read model as of a past position into its own collection and leaves the live one alone', async () => {
    const p = PROJECTIONS.find((x) => x.name === 'notifications')!;
    const head = await events.headPosition();
    const until = Math.floor(head / 2);
    const result = await rebuild(events, readModels, p, logger, { until });
    assert.equal(result.swapped, false);
    assert.equal(result.collection, `notifications__until_${until}`);
    const past = dump(readFile, result.collection);
    assert.ok(past.length > 0 && past.every((r) => r.position <= until));
    assert.deepEqual(dump(readFile, p.collection.name), live.get(p.name));
    const [event] = await events.readAll({ fromPosition: until - 1, maxCount: 1 });
    assert.equal(await positionAt(events, new Date(event!.created).toISOString()) >= until, true);
  });

  it('finding the position of a time shows its progress page by page, and stops when asked', async () => {
    const seen: number[] = [];
    const found = await positionAt(events, new Date(Date.now() + 60_000).toISOString(), { onProgress: (_position, scanned) => void seen.push(scanned) });
    assert.equal(found, await events.headPosition());
    assert.ok(seen.length >= 1 && seen.every((n, i) => i === 0 || n > seen[i - 1]!), `pages read: ${seen.join(', ')}`);
    const stop = new AbortController();
    stop.abort();
    await assert.rejects(positionAt(events, new Date().toISOString(), { signal: stop.signal }), PositionSearchInterruptedError);
  });
});
