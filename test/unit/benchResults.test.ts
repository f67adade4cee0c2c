import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { writeResults } from '../../src/cli/bench/report.ts';
import type { BenchResults } from '../../src/cli/bench/results.ts';

/** Only what writeResults reads: the mode and the start time name the file. */
const run = (mode: string, startedAt: string) => ({ mode, startedAt, seconds: 1 }) as unknown as BenchResults;
const startedAt = async (file: string) => (JSON.parse(await readFile(file, 'utf8')) as { startedAt: string }).startedAt;

describe('bench results on disk', () => {
  const dirs: string[] = [];
  const fresh = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-results-'));
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every full run of a day: <date>.json is the last, the earlier ones are named after their start', async () => {
    const dir = await fresh();
    await writeResults(run('full', '2026-11-27T06:11:05.123Z'), dir);
    await writeResults(run('full', '2026-11-27T06:29:23.103Z'), dir);
    const last = await writeResults(run('full', '2026-11-27T09:02:00.000Z'), dir);

    assert.equal(last, join(dir, '2026-11-27.json'));
    assert.deepEqual((await readdir(dir)).sort(), ['2026-11-27.json', '2026-11-27T06-11-05Z.json', '2026-11-27T06-29-23Z.json']);
    assert.equal(await startedAt(last), '2026-11-27T09:02:00.000Z');
    assert.equal(await startedAt(join(dir, '2026-11-27T06-11-05Z.json')), '2026-11-27T06:11:05.123Z');
    assert.equal(await startedAt(join(dir, '2026-11-27T06-29-23Z.json')), '2026-11-27T06:29:23.103Z');
  });

  it('lets quick runs replace each other, and leaves the full run of the day alone', async () => {
    const dir = await fresh();
    await writeResults(run('full', '2026-11-27T06:00:00.000Z'), dir);
    await writeResults(run('quick', '2026-11-27T07:00:00.000Z'), dir);
    await writeResults(run('quick', '2026-11-27T07:05:00.000Z'), dir);

    assert.deepEqual((await readdir(dir)).sort(), ['2026-11-27-quick.json', '2026-11-27.json']);
    assert.equal(await startedAt(join(dir, '2026-11-27-quick.json')), '2026-11-27T07:05:00.000Z');
    assert.equal(await startedAt(join(dir, '2026-11-27.json')), '2026-11-27T06:00:00.000Z');
  });

  it('refuses to replace a file that holds no run, and says what to do', async () => {
    const dir = await fresh();
    await writeFile(join(dir, '2026-11-27.json'), 'notes, not a run\n');
    await assert.rejects(writeResults(run('full', '2026-11-27T08:00:00.000Z'), dir), /holds no benchmark run .*move it away and run again/);
    assert.equal(await readFile(join(dir, '2026-11-27.json'), 'utf8'), 'notes, not a run\n');
  });
});
