/**
 * How long the API thread is blocked in the event store's commits, and by the WAL checkpoints run
 * in them: `node --import tsx bench/commitBlocking.ts [events=150000] [writer|thread] [restartPages]`.
 * Appends single-event streams (a NotificationRequested each) with 32 appends in flight, as
 * the benchmark's 32 connections do, and times each group commit's synchronous part (TurnBatch.flush: the
 * transaction, COMMIT and any checkpoint inside it; the fdatasync after it runs off the thread).
 * A commit after which events.db changed ran a checkpoint (only checkpoints write events.db in WAL
 * mode); and each append's latency, ask to resolve (the 202's share). `writer`: SQLite's checkpoints in the commit (the default); `thread`: a WalCheckpointer.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { WAL_FALLBACK_PAGES, WAL_RESTART_PAGES, WalCheckpointer } from '../src/adapters/eventStore/sqlite/walCheckpointer.ts';
import { WriteLock } from '../src/adapters/eventStore/sqlite/writeLock.ts';
import type { TurnBatch } from '../src/adapters/eventStore/sqlite/turnBatch.ts';

const total = Number(process.argv[2] ?? 150_000);
const mode = process.argv[3] ?? 'writer';
const IN_FLIGHT = 32;
const dir = mkdtempSync(join(tmpdir(), 'herald-commit-blocking-'));
const file = join(dir, 'events.db');
const writeLock = new WriteLock();
const store = new SqliteEventStore(file, mode === 'thread' ? { selfCheckpointPages: WAL_FALLBACK_PAGES, writeLock } : {});
const checkpointer = mode === 'thread' ? new WalCheckpointer(file, writeLock, undefined, { restartPages: Number(process.argv[4] ?? WAL_RESTART_PAGES) }) : undefined;

const commits: number[] = [];
const checkpointing: number[] = [];
const appends: number[] = [];
let walPeak = 0;
const dbStamp = () => {
  const s = statSync(file, { bigint: true });
  return `${s.size}:${s.mtimeNs}`;
};
const writes = (store as unknown as { writes: TurnBatch }).writes;
const flush = writes.flush.bind(writes);
writes.flush = () => {
  const stamp = dbStamp();
  const start = performance.now();
  flush();
  const ms = performance.now() - start;
  commits.push(ms);
  const now = dbStamp();
  if (now !== stamp) checkpointing.push(ms);
  walPeak = Math.max(walPeak, statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
};

const data = (i: number) => ({
  userId: `u-${i % 2000}`, channel: 'push', category: 'order-updates', routes: ['fcm'], priority: 'normal',
  content: { push: { title: 'Shipped', body: `Order ${i} is on its way to the address you gave`, data: { orderId: String(i) } } },
  template: { id: `tpl-${i % 3}`, version: 1, locale: null }, at: new Date(1_764_000_000_000 + i).toISOString(),
});
let next = 0;
const started = performance.now();
async function client(): Promise<void> {
  while (next < total) {
    const i = next++;
    const asked = performance.now();
    await store.append(`notification-${i.toString(36)}-${i}`, [{ type: 'NotificationRequested', data: data(i), metadata: { requestId: `r-${i}` } }], 'no_stream');
    appends.push(performance.now() - asked);
  }
}
await Promise.all(Array.from({ length: IN_FLIGHT }, client));
const seconds = (performance.now() - started) / 1000;
await store.close();
await checkpointer?.close();

const pct = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
};
const ms = (x: number) => x.toFixed(3);
process.stdout.write(`${mode}: ${total} appends in ${commits.length} commits, ${seconds.toFixed(1)} s; commit blocking p50 ${ms(pct(commits, 0.5))} p99 ${ms(pct(commits, 0.99))} p99.9 ${ms(pct(commits, 0.999))} max ${ms(pct(commits, 1))} ms, ${commits.filter((c) => c >= 5).length} ≥ 5 ms, ${(commits.reduce((a, b) => a + b, 0) / 1000).toFixed(2)} s in all; `
  + `${checkpointing.length} commits saw events.db change (p50 ${ms(pct(checkpointing, 0.5))} max ${ms(Math.max(0, ...checkpointing))} ms); WAL peak ${(walPeak / 1e6).toFixed(1)} MB; `
  + `append (ask to resolve) p50 ${ms(pct(appends, 0.5))} p99 ${ms(pct(appends, 0.99))} max ${ms(pct(appends, 1))} ms\n`);
rmSync(dir, { recursive: true, force: true });
