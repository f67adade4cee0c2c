/**
 * A backup of the embedded default's data dir while Herald runs: each SQLite file copied as one
 * consistent snapshot (sqliteSnapshot.ts), the generated tracking secret beside them.
 *
 * The read models are copied before the event log. A read model's checkpoint then never names a
 * position past the copied log's head: restored, the projector carries on from its checkpoint
 * over events the log has, where the other order could leave read models ahead of a log that
 * later reuses those positions for new events, which the projector would then skip.
 */
import { chmod, copyFile, mkdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { expectedSnapshotBytes, snapshotSqlite } from './sqliteSnapshot.ts';

export interface BackupSources {
  events: string;
  /** Absent: the read models are elsewhere (MongoDB), or the data dir has none yet. */
  readModels?: string;
  /** Files copied as they are (the tracking secret), when present. */
  plain: string[];
}

export interface BackedUp {
  file: string;
  bytes: number;
  seconds: number;
  /** The event log's head and event count in the copy. */
  events?: { count: number; head: number };
}

export interface BackupProgress {
  start(file: string, expectedBytes: number): void;
  update(bytes: number): void;
  stop(): void;
}

export async function backupDataDir(sources: BackupSources, dest: string, progress: BackupProgress): Promise<BackedUp[]> {
  await mkdir(dest, { recursive: true });
  const done: BackedUp[] = [];
  for (const source of [...(sources.readModels ? [sources.readModels] : []), sources.events]) {
    const target = join(dest, basename(source));
    const started = performance.now();
    progress.start(basename(source), expectedSnapshotBytes(source));
    try {
      await snapshotSqlite(source, target, (bytes) => progress.update(bytes));
    } finally {
      progress.stop();
    }
    const copied: BackedUp = { file: target, bytes: (await stat(target)).size, seconds: (performance.now() - started) / 1000 };
    if (source === sources.events) copied.events = logOf(target);
    done.push(copied);
  }
  for (const source of sources.plain) {
    const target = join(dest, basename(source));
    const started = performance.now();
    await copyFile(source, target);
    // A secret stays as private as it was (copyFile gives the copy the umask's mode).
    await chmod(target, (await stat(source)).mode & 0o777);
    done.push({ file: target, bytes: (await stat(target)).size, seconds: (performance.now() - started) / 1000 });
  }
  return done;
}

function logOf(file: string): { count: number; head: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT count(*) AS count, coalesce(max(position), 0) AS head FROM events').get() as { count: number; head: number };
  } finally {
    db.close();
  }
}
