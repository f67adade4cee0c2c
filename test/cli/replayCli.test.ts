import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replayNodeOptions } from '../../src/cli/bench/children.ts';

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
    assert.match(stdout, /^8 read model\(s\) rebuilt from \d+ log events read in /m);
    assert.doesNotMatch(stderr, /initial-old-space-size/);
  });

  it('warns, and says what to do, when Node runs without that option', async () => {
    const { code, stderr } = await replayCli(dir, []);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /Node runs without --initial-old-space-size: the rebuild will be about a fifth slower\. Run it as npm run replay, which passes it, or give node --initial-old-space-size=256/);
  });
});
