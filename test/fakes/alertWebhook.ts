import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The operators' alert webhook (HERALD_ALERT_WEBHOOK_URL) on 127.0.0.1: records the JSON body of
 * each POST and answers the n-th (from 1) as `answer(n)` says: a status, or 'drop' to cut the
 * connection without an answer.
 */
export async function startAlertWebhook(answer: (n: number) => number | 'drop' = () => 200): Promise<{ url: string; posts: unknown[]; close(): Promise<void> }> {
  const posts: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      posts.push(JSON.parse(body));
      const status = answer(posts.length);
      if (status === 'drop') req.socket.destroy();
      else res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    posts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
