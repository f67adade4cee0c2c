import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startHerald, type Herald, type Overrides } from '../../src/service.ts';

export const API_KEY = 'test-key-0123456789abcdef';
export const auth = { authorization: `Bearer ${API_KEY}` };

/** A real Herald on the embedded default in a temp dir; `restart` reopens the same data dir. Its log (info and up) goes to `log` when given, else nowhere. */
export async function startTestHerald(env: Record<string, string> = {}, makeOverrides: Overrides | ((dir: string) => Overrides) = {}, log?: NodeJS.WritableStream) {
  const dir = await mkdtemp(join(tmpdir(), 'herald-e2e-'));
  const overrides = typeof makeOverrides === 'function' ? makeOverrides(dir) : makeOverrides;
  const config = () => loadConfig({ HERALD_DATA_DIR: dir, HERALD_API_KEY: API_KEY, HERALD_LOG_LEVEL: 'silent', HERALD_BATCH_WINDOW_MS: '5', ...env });
  const logger = () => (log ? createLogger('info', log) : createLogger('silent'));
  let herald: Herald = await startHerald(config(), logger(), overrides);
  return {
    dir,
    get herald() {
      return herald;
    },
    get app() {
      if (!herald.app) throw new Error('no HTTP app in this role');
      return herald.app;
    },
    async restart() {
      await herald.stop();
      herald = await startHerald(config(), logger(), overrides);
    },
    async outbox(): Promise<{ notificationId: string; channel: string; route: string; to: string; content: unknown }[]> {
      const text = await readFile(join(dir, 'sandbox-outbox.jsonl'), 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as never);
    },
    async close() {
      try {
        await herald.stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
