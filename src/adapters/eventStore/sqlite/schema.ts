import Database from 'better-sqlite3';

/**
 * Opens (creating when missing) the embedded event store database. WAL lets readers run beside
 * the writer. synchronous=NORMAL: a COMMIT writes the WAL without waiting for the disk; the store
 * then fdatasyncs the WAL off the event loop (WalSync in durability.ts) and resolves an append,
 * and lets readers see its events, only once that returns. So the API still answers 202 only for
 * events that survive a power cut, without blocking a thread (and the write lock) on each fsync.
 *
 * `selfCheckpointPages`: set when a WalCheckpointer keeps this file's WAL short (walCheckpointer.ts);
 * the connection then checkpoints in its own commit only once the WAL holds that many pages, a
 * bound should the checkpointer stall. Absent: SQLite's default, every 1000 pages.
 */
export function openEventDb(file: string, selfCheckpointPages?: number): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  if (selfCheckpointPages !== undefined) db.pragma(`wal_autocheckpoint = ${Math.floor(selfCheckpointPages)}`);
  db.pragma('busy_timeout = 5000');
  // SQLite's default 2 MB page cache thrashes once the log outgrows it; subscribers read near the head.
  db.pragma('cache_size = -65536');
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      position INTEGER PRIMARY KEY AUTOINCREMENT,
      id       TEXT    NOT NULL,
      stream   TEXT    NOT NULL,
      revision INTEGER NOT NULL,
      type     TEXT    NOT NULL,
      data     TEXT    NOT NULL,
      metadata TEXT    NOT NULL,
      created  INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS events_stream_revision ON events (stream, revision);
    -- A stream's revision is the last key of events_stream_revision for it. Until 2026-11-27 a
    -- table of its own (streams) repeated it, a third b-tree written on every append (a random
    -- leaf for each new stream: each notification, each rate window); see docs/performance.md.
    -- Dropped, so that no older build trusts a copy this one no longer keeps.
    DROP TABLE IF EXISTS streams;
    CREATE TABLE IF NOT EXISTS ps_groups (
      name       TEXT PRIMARY KEY,
      settings   TEXT    NOT NULL,
      checkpoint INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ps_parked (
      group_name TEXT    NOT NULL,
      position   INTEGER NOT NULL,
      reason     TEXT    NOT NULL,
      parked_at  INTEGER NOT NULL,
      PRIMARY KEY (group_name, position)
    ) WITHOUT ROWID;
  `);
  return db;
}
