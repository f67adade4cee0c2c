/** Entry of a read-model commit thread (commitThreadClient.ts): writes serialized commits, in order, on its own connection. */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteReadModelStore } from './sqliteReadModelStore.ts';
import type { FromCommitThread, ToCommitThread } from './commitThreadClient.ts';

const port = parentPort!;
const store = new SqliteReadModelStore((workerData as { file: string }).file);

port.on('message', ({ id, commit }: ToCommitThread) => {
  let reply: FromCommitThread = { id };
  try {
    store.writeSerialized(commit);
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
