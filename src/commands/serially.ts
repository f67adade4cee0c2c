const locks = new Map<string, Promise<unknown>>();

/**
 * Runs `body` after every earlier call with the same key in this process has settled, so
 * concurrent commands on one stream queue instead of conflicting (and failing once their retries
 * run out). Across processes the expected-revision append still decides.
 */
export async function serially<T>(key: string, body: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const run = previous.then(body, body);
  const settled = run.catch(() => undefined);
  locks.set(key, settled);
  try {
    return await run;
  } finally {
    if (locks.get(key) === settled) locks.delete(key);
  }
}
