import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lockDataDir } from '../../src/adapters/dataDirLock.ts';
import { ConfigError } from '../../src/configError.ts';

describe('a data dir Herald cannot use', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'herald-datadir-'));
    await writeFile(join(root, 'a-file'), 'not a directory');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is a start-up error that says what to do when a file is in the way, not a stack trace', () => {
    for (const dir of [join(root, 'a-file'), join(root, 'a-file', 'data')]) {
      assert.throws(() => lockDataDir(dir), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.message, `HERALD_DATA_DIR ${dir} is not a directory (a file is in the way): set HERALD_DATA_DIR to a directory, which is created if missing`);
        return true;
      });
    }
  });

  it('is created when missing, and locked', () => {
    const lock = lockDataDir(join(root, 'new', 'data'));
    assert.throws(() => lockDataDir(join(root, 'new', 'data')), /another Herald process is running/);
    lock.release();
    lockDataDir(join(root, 'new', 'data')).release();
  });
});
