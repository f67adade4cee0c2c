/**
 * Entry of a read-model commit thread (commitThreadClient.ts): writes serialized commits, in order,
 * on its own connection. The commits that arrived while it was writing are written together, in
 * one transaction: a transaction's cost is mostly the pages it rewrites, and a stream-by-stream
 * rebuild (streamPass.ts) hands over one small commit per build and page, each of which touches
 * the same index pages (a user's, a time's) as the ones before it. Should the group fail, each of
 * its commits is written alone, so a failing commit fails alone.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteReadModelStore } from './sqliteReadModelStore.ts';
import type { FromCommitThread, ToCommitThread } from './commitThreadClient.ts';

const port = parentPort!;
const store = new SqliteReadModelStore((workerData as { file: string }).file);
let queued: ToCommitThread[] = [];

const failure = (error: unknown) => (error instanceof Error ? error.message : String(error));

function writeQueued(): void {
  const group = queued;
  queued = [];
  try {
    store.writeSerializedGroup(group.map((m) => m.commit));
    for (const { id } of group) port.postMessage({ id } satisfies FromCommitThread);
    return;
  } catch (error) {
    if (group.length === 1) {
      port.postMessage({ id: group[0]!.id, error: failure(error) } satisfies FromCommitThread);
      return;
    }
  }
  for (const { id, commit } of group) {
    let reply: FromCommitThread = { id };
    try {
      store.writeSerialized(commit);
    } catch (error) {
      reply = { id, error: failure(error) };
    }
    port.postMessage(reply);
  }
}

port.on('message', (message: ToCommitThread) => {
  // Messages that are already waiting arrive before the check phase runs writeQueued.
  if (queued.push(message) === 1) setImmediate(writeQueued);
});
