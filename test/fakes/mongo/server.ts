/**
 * A MongoDB wire-protocol test server (a test fixture, not product): a TCP server on 127.0.0.1
 * that the real `mongodb` driver connects to like a standalone MongoDB 7, backed by an in-memory
 * engine. Lets the read-model adapter's contract run in every `npm test` without Docker; the
 * same suite runs against a real server when MONGODB_URL is set (see docs/mongodb.md).
 * Covered commands: see commands.ts.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { CommandDispatcher } from './commands.ts';
import { MongoEngine } from './engine.ts';
import { encodeReply, parseRequest, readMessages } from './wire.ts';

export interface MongoTestServer {
  /** Connection string for the driver, e.g. mongodb://127.0.0.1:50123 */
  url: string;
  /** Command names received so far, in order. */
  received: readonly string[];
  close(): Promise<void>;
}

/** `replicaSet`: the server says it is the primary (and only member) of a replica set of that name. */
export async function startMongoTestServer(options: { replicaSet?: string } = {}): Promise<MongoTestServer> {
  let address = '';
  const dispatcher = new CommandDispatcher(new MongoEngine(), options.replicaSet ? { name: options.replicaSet, address: () => address } : undefined);
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let replies = 0;

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const ctx = { connectionId: ++connections };
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      try {
        const { messages, rest } = readMessages(Buffer.concat([pending, chunk]));
        pending = rest;
        for (const message of messages) {
          const request = parseRequest(message);
          const reply = dispatcher.run(request.command, request.db, ctx);
          if (!request.moreToCome) socket.write(encodeReply(request, reply, ++replies));
        }
      } catch (error) {
        // A framing error leaves the stream unreadable; dropping the connection is what a server does.
        socket.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('error', () => undefined);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  address = `127.0.0.1:${port}`;

  return {
    url: `mongodb://127.0.0.1:${port}`,
    received: dispatcher.received,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
