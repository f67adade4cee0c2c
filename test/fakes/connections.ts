/** Counts a fake server's TCP connections, so the benchmark can show that the SDKs reuse theirs (keep-alive, HTTP/2). */
import type { Server, Socket } from 'node:net';

export interface ConnectionCount {
  /** Connections accepted so far, and how many are still open. */
  connections(): { total: number; open: number };
}

export function countConnections(server: Server): ConnectionCount['connections'] {
  let total = 0;
  let open = 0;
  server.on('connection', (socket: Socket) => {
    total += 1;
    open += 1;
    socket.once('close', () => (open -= 1));
  });
  return () => ({ total, open });
}
