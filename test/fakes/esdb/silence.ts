/**
 * Test fixture, not product: what answers at a node's address once it stops answering. It copies a
 * node whose process freezes as it restarts (a VM paused by its host, a process stopped, a disk
 * stall holding the whole node) or a proxy in front of it left with no node behind: the kernel
 * still completes each TCP handshake, and nothing ever speaks on the connection, not even HTTP/2's
 * settings or ping replies, so neither the SDK nor gRPC sees an error.
 */
import { createServer, type Socket } from 'node:net';

/** Takes TCP connections on 127.0.0.1:`port` and never answers; `close` drops them and frees the port. */
export async function silentListener(port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
