import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { createLogger } from '../../src/logger.ts';
import { Projector } from '../../src/processors/projector.ts';
import { rebuild } from '../../src/processors/rebuild.ts';
import { contacts } from '../../src/projections/contacts.ts';
import type { Projection } from '../../src/projections/projection.ts';
import { eventually } from '../support/wait.ts';

/** The indexes SQLite holds per table of the read-model file, by what they cover. */
function indexes(file: string): Record<string, string[]> {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare<[], { tbl_name: string; sql: string }>("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY tbl_name, sql").all();
    const byTable: Record<string, string[]> = {};
    for (const r of rows) (byTable[r.tbl_name] ??= []).push(r.sql.slice(r.sql.indexOf('(')));
    return byTable;
  } finally {
    db.close();
  }
}

describe('swapping a rebuilt read model in (embedded SQLite)', () => {
  it('keeps the indexes built on the copy, one per declared index, through repeated rebuilds and restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-swap-'));
    const file = join(dir, 'r.db');
    const events = new SqliteEventStore(join(dir, 'e.db'));
    const readModels = new SqliteReadModelStore(file);
    const projection = contacts as unknown as Projection;
    const logger = createLogger('silent');
    try {
      const at = '2026-11-23T10:00:00.000Z';
      for (let u = 0; u < 20; u += 1) await events.append(`user-u${u}`, [encodeEvent({ type: 'UserProfileUpdated', data: { userId: `u${u}`, email: `u${u}@example.com`, at } })], 'no_stream');
      const projector = new Projector(events, readModels, [projection], logger);
      await projector.start();
      await eventually(5000, 'contacts projected', async () => ((await readModels.count('contacts')) === 20 ? true : undefined));
      await projector.stop();
      const declared = indexes(file).rm_contacts;
      assert.equal(declared?.length, 2);

      for (let round = 0; round < 3; round += 1) {
        await rebuild(events, readModels, projection, logger);
        await readModels.ensureCollection(projection.collection);
        assert.deepEqual(indexes(file), { rm_contacts: declared }, `round ${round}: the live table has its indexes once, and no build table is left`);
        assert.deepEqual((await readModels.find('contacts', { where: { emailKey: 'u7@example.com' } })).map((d) => d.id), ['u7']);
      }
    } finally {
      await events.close();
      await readModels.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
