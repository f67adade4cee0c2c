/**
 * `npm run backup -- <new dir>`: a consistent copy of the embedded default's data dir, taken while
 * Herald runs (see src/adapters/backup/backupDataDir.ts and README, "Backups"). Uses the same
 * configuration as `npm start`, so it finds the data dir the service uses.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadConfig } from '../config.ts';
import { ConfigError } from '../configError.ts';
import { TRACKING_SECRET_FILE } from '../tracking/config.ts';
import { backupDataDir, type BackupProgress } from '../adapters/backup/backupDataDir.ts';

const USAGE = `usage: npm run backup -- <new directory>
  copies the event log, the read models and the tracking secret of HERALD_DATA_DIR (default ./data)
  into the directory, which must be new or empty; Herald may keep running meanwhile`;

class UsageError extends Error {}

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
const size = (bytes: number) => (bytes < 1e3 ? `${bytes} bytes` : bytes < 1e6 ? `${Math.ceil(bytes / 1e3)} KB` : `${mb(bytes)} MB`);

function progressBar(): BackupProgress {
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format: '{file} [{bar}] {percentage}% | {copied} of about {expected} MB', hideCursor: true }, cliProgress.Presets.shades_classic);
  let expected = 1;
  return {
    start(file, expectedBytes) {
      expected = Math.max(1, expectedBytes);
      bar.start(expected, 0, { file: file.padEnd(14), copied: 0, expected: mb(expected) });
    },
    // The copy is compact, so it may end smaller than the estimate, or a little larger when the log grew.
    update: (bytes) => bar.update(Math.min(bytes, expected), { copied: mb(bytes) }),
    stop: () => bar.stop(),
  };
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the directory to write the backup to' : `one directory, not ${positionals.join(' ')}`);
  const config = loadConfig(process.env);
  if (config.eventStore.kind !== 'embedded') {
    throw new ConfigError('HERALD_EVENT_STORE is eventstoredb: back up EventStoreDB with its own backup (a copy of its database directory, as its documentation describes) and MongoDB with mongodump; this command copies the embedded stores');
  }
  if (!existsSync(config.eventStore.file)) throw new ConfigError(`no event log at ${config.eventStore.file}: set HERALD_DATA_DIR to the data dir the service's npm start uses`);
  const dest = resolve(positionals[0]!);
  if (dest === config.dataDir) throw new UsageError('the backup cannot go into the data dir itself: name a new directory');
  if (existsSync(dest) && (await readdir(dest)).length > 0) throw new UsageError(`${dest} is not empty: name a new or empty directory, so that no earlier backup is mixed into this one`);
  const readModels = config.readStore.kind === 'embedded' && existsSync(config.readStore.file) ? config.readStore.file : undefined;
  const secret = join(config.dataDir, TRACKING_SECRET_FILE);
  const copied = await backupDataDir({ events: config.eventStore.file, ...(readModels ? { readModels } : {}), plain: existsSync(secret) ? [secret] : [] }, dest, progressBar());
  for (const c of copied) {
    const log = c.events ? `: ${c.events.count} events, head at position ${c.events.head}` : '';
    process.stdout.write(`${c.file} (${size(c.bytes)} in ${c.seconds.toFixed(1)} s${log})\n`);
  }
  if (config.readStore.kind === 'mongodb') process.stdout.write('the read models are in MongoDB: not copied (they can be rebuilt from the log with npm run replay -- all, or backed up with mongodump)\n');
  process.stdout.write(`backup complete in ${dest}. To restore: stop Herald, put these files in an empty HERALD_DATA_DIR, start it.\n`);
  return 0;
}

/** A write the backup's disk refused (SQLite's words for it, or the system's) says where to look. */
function diskHint(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const text = `${typeof code === 'string' ? code : ''} ${error instanceof Error ? error.message : String(error)}`;
  return /SQLITE_FULL|SQLITE_IOERR|disk I\/O error|database or disk is full|ENOSPC|EFBIG|EDQUOT/.test(text)
    ? 'The backup directory\'s disk is most likely full (each copy needs about the size of its database): free space there, or give a directory on another disk.\n'
    : '';
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`backup: ${error.message}\n${USAGE}\n`);
    else if (error instanceof ConfigError) process.stderr.write(`backup: ${error.message}\n`);
    else process.stderr.write(`backup: failed: ${error instanceof Error ? error.message : String(error)}\n${diskHint(error)}The data dir was only read; remove the partial backup directory and run the command again.\n`);
    process.exit(error instanceof UsageError || error instanceof ConfigError ? 2 : 1);
  },
);
