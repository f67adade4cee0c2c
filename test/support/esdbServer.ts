import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/ports/logger.ts';
import { startEsdbTestServer, type EsdbTestServer } from '../fakes/esdb/server.ts';

/** The EventStoreDB test server on a fresh database in a temporary directory; `cleanup` stops it and removes the directory. */
export async function esdbServer(): Promise<{ dir: string; file: string; server: EsdbTestServer; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-esdb-'));
  const file = join(dir, 'events.db');
  const server = await startEsdbTestServer(file);
  return {
    dir,
    file,
    server,
    cleanup: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A logger that keeps each warning's and error's message, for tests that check what was said. */
export function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (_obj, msg) => void lines.push(msg ?? ''),
    error: (_obj, msg) => void lines.push(msg ?? ''),
    child: () => logger,
  };
  return logger;
}
