import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { createLogger } from '../../src/logger.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { checkpointName, Projector } from '../../src/processors/projector.ts';
import { contacts, type ContactsDoc } from '../../src/projections/contacts.ts';
import type { Projection } from '../../src/projections/projection.ts';
import { eventually } from '../support/wait.ts';

const at = '2026-11-23T10:00:00.000Z';
// Pinned at 1 whatever contacts' own version is: the tests move it to 2.
const v1 = { ...contacts, version: 1 } as unknown as Projection;

interface Built {
  events: SqliteEventStore;
  readModels: SqliteReadModelStore;
  logger: Logger;
  /** Every log line written so far. */
  lines: string[];
}

/** `users` profiles in the log and contacts v1 built from them (its projector stopped), then `body`. */
async function withV1Built(users: number, body: (built: Built) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-version-'));
  const events = new SqliteEventStore(join(dir, 'e.db'));
  const readModels = new SqliteReadModelStore(join(dir, 'r.db'));
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _e, done) => done(void lines.push(chunk.toString())) }));
  try {
    for (let u = 0; u < users; u += 1) await events.append(`user-u${u}`, [encodeEvent({ type: 'UserProfileUpdated', data: { userId: `u${u}`, email: `u${u}@example.com`, at } })], 'no_stream');
    const first = new Projector(events, readModels, [v1], logger);
    await first.start();
    await eventually(5000, 'v1 built', async () => ((await readModels.getCheckpoint(checkpointName(v1))) > 0 ? true : undefined));
    await first.stop();
    await body({ events, readModels, logger, lines });
  } finally {
    await events.close();
    await readModels.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('projection versioning', () => {
  it('rebuilds a projection whose version changed, blue/green, says so, then follows the log', () => withV1Built(50, async ({ events, readModels, logger, lines }) => {
    // v2 changes what evolve writes: every document gains a field v1 never wrote.
    const v2: Projection = { ...v1, version: 2, evolve: (doc, e) => {
      const next = contacts.evolve(doc as ContactsDoc | null, e);
      return next && { ...next, v2: true };
    } };
    const second = new Projector(events, readModels, [v2], logger);
    await second.start();
    await eventually(5000, 'v2 swapped in', async () => ((await readModels.getCheckpoint(checkpointName(v2))) > 0 ? true : undefined));
    assert.ok(lines.some((l) => l.includes('changed from v1 to v2: rebuilding')), 'the service says it rebuilds');
    assert.ok(lines.some((l) => l.includes('rebuilt and swapped in')));
    const docs = await readModels.find('contacts');
    assert.equal(docs.length, 50);
    assert.ok(docs.every((d) => d.doc.v2 === true));
    await events.append('user-late', [encodeEvent({ type: 'UserProfileUpdated', data: { userId: 'late', email: 'late@example.com', at } })], 'no_stream');
    await eventually(5000, 'a new event followed live', async () => (await readModels.get('contacts', 'late'))?.doc.v2);
    await second.stop();
  }));

  it('stops a rebuild whose new version throws on an event, once, while the old version keeps serving', () => withV1Built(10, async ({ events, readModels, logger, lines }) => {
    const v2: Projection = { ...v1, version: 2, evolve: (doc, e) => {
      if (e.type === 'UserProfileUpdated' && e.data.userId === 'u7') throw new Error('v2 bug');
      return contacts.evolve(doc as ContactsDoc | null, e);
    } };
    const second = new Projector(events, readModels, [v2], logger);
    await second.start();
    await eventually(5000, 'the rebuild stopped', async () => (second.stopped.has('contacts') ? true : undefined));
    const failed = lines.filter((l) => l.includes('cannot apply'));
    assert.equal(failed.length, 1, 'said once, not retried');
    assert.match(failed[0]!, /projection contacts cannot apply UserProfileUpdated of user-u7 at position \d+: v2 bug\. The rebuild to v2 stops at its build checkpoint and v1 keeps serving/);
    assert.ok(!lines.some((l) => l.includes('retrying in 5 s')));
    assert.equal((await readModels.find('contacts')).length, 10, 'v1 still serves');
    await second.stop();
  }));
});
