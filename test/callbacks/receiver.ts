import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
  /** The client's port: the same for requests over one kept-alive connection. */
  remotePort: number;
}

type Answer = (req: Received, nth: number) => { status: number; headers?: Record<string, string>; delayMs?: number } | 'never';

/** A receiver of Herald's callbacks on 127.0.0.1: each path answers as `answers` says (200 by default) and every request is recorded. */
export async function startReceiver(answers: Record<string, Answer>) {
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now(), remotePort: req.socket.remotePort ?? 0 };
      received.push(r);
      const nth = received.filter((x) => x.path === r.path).length;
      const answer = answers[r.path]?.(r, nth) ?? { status: 200 };
      if (answer === 'never') return void hanging.add(res);
      setTimeout(() => res.writeHead(answer.status, answer.headers).end('ok'), answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    at: (path: string) => received.filter((r) => r.path === path),
    hanging: () => hanging.size,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
