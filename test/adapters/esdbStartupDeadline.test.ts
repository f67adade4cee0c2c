import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { createEsdbEventStore } from '../../src/adapters/eventStore/esdb/esdbEventStore.ts';
import { EventStoreUnavailableError } from '../../src/ports/eventStore.ts';
import { within } from '../support/wait.ts';

/** A server that takes TCP connections on 127.0.0.1 and never answers (a proxy with nothing behind it, say). */
async function silentServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `esdb://127.0.0.1:${port}?tls=false`,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const noAnswer = (e: unknown) => e instanceof EventStoreUnavailableError && /did not answer within 0\.3 s .*gRPC port/.test(e.message);

describe('EventStoreDB adapter: a server that takes the connection and never answers', () => {
  it('fails start-up after the deadline, saying what to check, instead of waiting for ever', async () => {
    const silent = await silentServer();
    const store = createEsdbEventStore(silent.url, undefined, { startupDeadlineMs: 300 });
    try {
      await assert.rejects(within(5000, 'the group set up', store.ensurePersistentSubscription('g', {})), (e: unknown) => noAnswer(e) && /group g/.test((e as Error).message));
      await assert.rejects(within(5000, 'the first answer', store.ready()), noAnswer);
      await within(5000, 'close', store.close());
    } finally {
      await silent.stop();
    }
  });

  it('when the call deadline ends the first call before start-up\'s, start-up still says what to check', async () => {
    const silent = await silentServer();
    const store = createEsdbEventStore(silent.url, undefined, { callDeadlineMs: 300 });
    try {
      await assert.rejects(within(5000, 'the first answer', store.ready()), (e: unknown) => noAnswer(e) && /first call/.test((e as Error).message));
      await within(5000, 'close', store.close());
    } finally {
      await silent.stop();
    }
  });
});
