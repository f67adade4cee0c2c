import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replayNodeOptions } from '../../src/cli/bench/children.ts';
import { PROJECTIONS } from '../../src/projections/index.ts';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { readdir } from 'node:fs/promises';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** `node [options] src/cli/replay.ts all` on `dir`, as npm run replay runs it (with tsx). */
function replayCli(dir: string, nodeOptions: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeOptions, '--import', 'tsx', 'src/cli/replay.ts', 'all'], { cwd: root, env: { ...process.env, HERALD_DATA_DIR: dir, NODE_OPTIONS: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('npm run replay', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-replay-cli-'));
    // A data dir as npm start leaves it: an event log with something in it.
    const events = new SqliteEventStore(join(dir, 'events.db'));
    await events.append('user-u1', [encodeEvent({ type: 'UserProfileUpdated', data: { userId: 'u1', email: 'u1@example.com', phone: null, locale: null, timezone: null, at: '2026-11-23T10:00:00.000Z' } })], 'no_stream');
    await events.close();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs Node with the old generation configured (package.json), so V8 does not collect it all every few tens of MB', () => {
    assert.ok(replayNodeOptions().some((option) => /^--initial-old-space-size=\d+$/.test(option)), `npm run replay's Node options: ${replayNodeOptions().join(' ')}`);
  });

  it('rebuilds every read model of a data dir, and says nothing about the heap with the script\'s options', async () => {
    const { code, stdout, stderr } = await replayCli(dir, replayNodeOptions());
    assert.equal(code, 0, stderr);
    assert.match(stdout, new RegExp(`^${PROJECTIONS.length} read model\\(s\\) rebuilt from \\d+ log events read in `, 'm'));
    assert.doesNotMatch(stderr, /initial-old-space-size/);
  });

  it('warns, and says what to do, when Node runs without that option', async () => {
    const { code, stderr } = await replayCli(dir, []);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /Node runs without --initial-old-space-size: the rebuild will be about a fifth slower\. Run it as npm run replay, which passes it, or give node --initial-old-space-size=256/);
  });

  it('refuses a data dir with no event log, saying which file it looked for, and creates nothing there', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'herald-replay-cli-empty-'));
    try {
      const { code, stdout, stderr } = await replayCli(empty, replayNodeOptions());
      assert.equal(code, 2, stderr);
      assert.equal(stdout, '');
      assert.equal(stderr, `replay: no event log at ${join(empty, 'events.db')}: replay rebuilds the read models of an existing Herald; set HERALD_DATA_DIR to the data dir its npm start uses\n`);
      assert.deepEqual(await readdir(empty), []);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
