import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';
import { backupDataDir, type BackupProgress } from '../../src/adapters/backup/backupDataDir.ts';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function backupCli(dataDir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/backup.ts', ...args], { cwd: root, env: { ...process.env, HERALD_DATA_DIR: dataDir, NODE_OPTIONS: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const quiet: BackupProgress = { start: () => undefined, update: () => undefined, stop: () => undefined };

describe('a backup of the data dir while Herald runs', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  let scratch: string;
  const send = (body: string) => h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'ada' }], channels: ['sms'], category: 'c', content: { sms: { body } } } });

  before(async () => {
    h = await startTestHerald();
    scratch = await mkdtemp(join(tmpdir(), 'herald-backup-'));
    await h.app.inject({ method: 'PUT', url: '/v1/users/ada', headers: auth, payload: { phone: '+14155550123' } });
  });
  after(async () => {
    await h.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('is one consistent snapshot whose read models are never ahead of its log, and a Herald restored from it carries on', async () => {
    const first = (await send('before the backup')).json<{ notifications: { id: string }[] }>().notifications[0]!.id;
    await eventually(5000, 'the first send in the notification log', async () => ((await h.app.inject({ method: 'GET', url: `/v1/users/ada/notifications?limit=1`, headers: auth })).json<{ notifications: unknown[] }>().notifications.length > 0 ? true : undefined));
    // Sends go on while the files are copied.
    let sending = true;
    const during = (async () => {
      let n = 0;
      while (sending) assert.equal((await send(`during ${n++}`)).statusCode, 202);
      return n;
    })();
    const dest = join(scratch, 'backup');
    const copied = await backupDataDir({ events: join(h.dir, 'events.db'), readModels: join(h.dir, 'read-models.db'), plain: [join(h.dir, 'tracking-secret')] }, dest, quiet).finally(() => {
      sending = false;
    });
    assert.ok((await during) > 0, 'sends went on during the backup');
    assert.deepEqual(copied.map((c) => c.file.slice(dest.length + 1)), ['read-models.db', 'events.db', 'tracking-secret'], 'read models first, then the log');
    const log = copied[1]!.events!;
    assert.ok(log.count > 0 && log.head >= log.count, JSON.stringify(log));
    const readModels = new Database(join(dest, 'read-models.db'), { readonly: true });
    const checkpoints = readModels.prepare('SELECT name, position FROM rm_checkpoints').all() as { name: string; position: number }[];
    readModels.close();
    assert.ok(checkpoints.length > 0);
    for (const c of checkpoints) assert.ok(c.position <= log.head, `${c.name} at ${c.position}, past the copied log's head ${log.head}`);
    assert.equal((await stat(join(dest, 'tracking-secret'))).mode & 0o777, 0o600, 'the secret stays private');

    // Restored into a fresh data dir: what was sent is there, and new sends are delivered and listed.
    const restored = await startTestHerald();
    try {
      await restored.herald.stop();
      await rm(restored.dir, { recursive: true, force: true });
      await cp(dest, restored.dir, { recursive: true });
      await restored.restart();
      const found = await restored.app.inject({ method: 'GET', url: `/v1/notifications/${first}`, headers: auth });
      assert.equal(found.statusCode, 200, found.body);
      const after = (await restored.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'ada' }], channels: ['sms'], category: 'c', content: { sms: { body: 'after the restore' } } } })).json<{ notifications: { id: string }[] }>().notifications[0]!.id;
      await eventually(5000, 'the new send delivered', async () => ((await restored.outbox()).some((l) => l.notificationId === after) ? true : undefined));
      await eventually(5000, 'the new send listed', async () => ((await restored.app.inject({ method: 'GET', url: `/v1/users/ada/notifications?limit=200`, headers: auth })).json<{ notifications: { id: string }[] }>().notifications.some((n) => n.id === after) ? true : undefined));
    } finally {
      await restored.close();
    }
  });

  it('npm run backup writes the copy and says how to restore; it refuses a directory in use and a data dir without a log, saying what to do', async () => {
    const dest = join(scratch, 'cli');
    const ok = await backupCli(h.dir, [dest]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /events\.db \(.+: \d+ events, head at position \d+\)/);
    assert.match(ok.stdout, /To restore: stop Herald, put these files in an empty HERALD_DATA_DIR, start it/);
    assert.deepEqual((await readdir(dest)).sort(), ['events.db', 'read-models.db', 'tracking-secret']);

    const used = join(scratch, 'used');
    await cp(dest, used, { recursive: true });
    await writeFile(join(used, 'note.txt'), 'x');
    const busy = await backupCli(h.dir, [used]);
    assert.equal(busy.code, 2);
    assert.match(busy.stderr, /is not empty: name a new or empty directory/);
    const none = await backupCli(join(scratch, 'no-such-dir'), [join(scratch, 'x')]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no event log at .*: set HERALD_DATA_DIR/);
  });
});

describe('a backup onto a disk that fills up', () => {
  it('fails with exit 1, saying the backup directory\'s disk is most likely full and what to do', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'herald-backup-full-'));
    try {
      const dataDir = join(scratch, 'data');
      await mkdir(dataDir);
      const store = new SqliteEventStore(join(dataDir, 'events.db'));
      for (let i = 0; i < 5; i++) await store.append(`s-${i}`, [{ type: 'Filler', data: { text: 'x'.repeat(20_000) } }], 'no_stream');
      await store.close();
      // A file size limit (SIGXFSZ ignored) for the backup's process alone stands in for a full
      // disk; tsx's cache is off so that the limit meets the copy, not a cache file.
      const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile('/bin/sh', ['-c', `trap '' XFSZ; ulimit -f 40; exec "${process.execPath}" --import tsx src/cli/backup.ts "${join(scratch, 'copy')}"`], { cwd: root, env: { ...process.env, HERALD_DATA_DIR: dataDir, TSX_DISABLE_CACHE: '1', NODE_OPTIONS: '' } }, (error, _stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr });
        });
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^backup: failed: .+\nThe backup directory's disk is most likely full \(each copy needs about the size of its database\): free space there, or give a directory on another disk\.\nThe data dir was only read; remove the partial backup directory and run the command again\.\n$/);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
