/**
 * `npm run bench [-- --quick]`: Herald's throughput, latency and cost curve on this machine.
 * Embedded stores with durable commits in a temp dir, real HTTP on 127.0.0.1, the real SDK
 * adapters against local fake provider servers, load from separate processes. See
 * docs/performance.md for what each figure means.
 */
import { runBench } from './bench/run.ts';
import { FULL, QUICK } from './bench/sizes.ts';
import { table, writeResults } from './bench/report.ts';
import { stderrProgress } from './bench/stats.ts';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--quick');
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown option ${unknown.join(' ')}; use --quick for the under-a-minute run\n`);
    process.exit(2);
  }
  const quick = args.includes('--quick');
  const results = await runBench(quick ? 'quick' : 'full', quick ? QUICK : FULL, stderrProgress);
  process.stdout.write(`${table(results)}\n`);
  process.stderr.write(`bench: results written to ${await writeResults(results)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
