import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PersistentGroups } from '../../src/adapters/eventStore/sqlite/persistentGroups.ts';
import { openEventDb } from '../../src/adapters/eventStore/sqlite/schema.ts';
import { TurnBatch } from '../../src/adapters/eventStore/sqlite/turnBatch.ts';
import { Wakes } from '../../src/adapters/eventStore/sqlite/wakes.ts';
import type { RecordedEvent } from '../../src/ports/eventStore.ts';
import { capturingLogger } from '../support/logLines.ts';
import { refusing } from '../support/refusing.ts';
import { eventually } from '../support/wait.ts';

const event = (position: number): RecordedEvent => ({ position, id: `e${position}`, streamName: `s-${position}`, revision: 0, type: 'T', data: {}, metadata: {}, created: 0 });

describe('the embedded persistent groups parking an event the disk will not take', () => {
  it('say so once (not once per try), keep retrying, and say when the dead letter is recorded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-groups-'));
    const db = openEventDb(join(dir, 'events.db'));
    let full = true;
    // The groups' real write queue on a real file, refusing while the disk is "full".
    const writes = refusing(new TurnBatch(db, { begin: 'immediate' }), (method) => method === 'enqueue' && full, () => new Error('events.db: nothing was written (SQLITE_FULL: database or disk is full)'));
    const log = capturingLogger();
    const infos: string[] = [];
    const logger = { ...log.logger, info: (_obj: object, msg?: string) => void infos.push(msg ?? '') };
    const events = [event(1)];
    const readPage = (from: number, max: number) => {
      const page = events.filter((e) => e.position > from).slice(0, max);
      return { events: page, scannedTo: page.at(-1)?.position ?? from };
    };
    const wakes = new Wakes();
    const groups = new PersistentGroups(db, writes, readPage, wakes, () => undefined, logger);
    try {
      full = false;
      await groups.ensure('g', {}, 0);
      full = true;
      const consumer = groups.connect('g');
      const [delivered] = await consumer.nextBatch(1);
      assert.ok(delivered);
      assert.equal(delivered.event.position, 1);
      await consumer.nack('park', 'poison', delivered);
      // 250 ms, 500 ms, 1 s…: several refused tries, one warning.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const warnings = log.lines.filter((l) => l.level === 'warn');
      assert.equal(warnings.length, 1, JSON.stringify(log.lines));
      assert.match(warnings[0]!.msg ?? '', /^cannot record a dead letter now: the event stays undelivered behind the group's checkpoint and the write is retried up to every 5 s/);
      assert.deepEqual({ group: warnings[0]!.obj.group, position: warnings[0]!.obj.position, reason: warnings[0]!.obj.reason }, { group: 'g', position: 1, reason: 'poison' });
      assert.equal(groups.info('g').checkpoint, 0);
      assert.equal(groups.info('g').parked, 0);

      full = false;
      await eventually(10_000, 'the dead letter written once there is room', () => (groups.info('g').parked === 1 ? true : undefined));
      assert.equal(groups.info('g').checkpoint, 1);
      assert.deepEqual(infos, ['dead letter recorded after the event store refused it; the group moves on']);
      await consumer.close();
    } finally {
      await groups.close();
      wakes.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the embedded persistent groups closing when the disk will not take the last checkpoint', () => {
  it('close anyway, and say the events since the last saved checkpoint come again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-groups-'));
    const db = openEventDb(join(dir, 'events.db'));
    const log = capturingLogger();
    const wakes = new Wakes();
    const groups = new PersistentGroups(db, new TurnBatch(db, { begin: 'immediate' }), () => ({ events: [], scannedTo: 0 }), wakes, () => undefined, log.logger);
    try {
      await groups.ensure('g', {}, 0);
      // Every write refused from here on, as on a full disk (SQLite answers SQLITE_READONLY).
      db.pragma('query_only = ON');
      await groups.close();
      assert.deepEqual(log.lines.map((l) => [l.level, l.obj.group, l.msg]), [
        ['warn', 'g', 'cannot save the group\'s last checkpoint on close; the events after the one saved before are handed out again at the next start, where deliveries already recorded are not sent again'],
      ]);
    } finally {
      wakes.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
