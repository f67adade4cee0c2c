/**
 * The open-loop load generator for the soft real-time figure, run as its own process: it sends
 * at a fixed rate whatever the answers do (a closed loop would slow down with the server and hide
 * the queueing), and writes when each notification was accepted (the 202's arrival, epoch ms)
 * to a JSON file for the bench to match against the NotificationSent events.
 *
 *   node --import tsx bench/loadOpen.ts '{"url":"…","users":1000,"rate":2000,"seconds":10,"out":"/tmp/x.json"}'
 */
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { BENCH_API_KEY, sendBody } from './mix.ts';

export interface OpenArgs {
  url: string;
  users: number;
  rate: number;
  seconds: number;
  out: string;
  offset?: number;
}

export interface OpenResult {
  sent: number;
  accepted: number;
  errors: number;
  seconds: number;
  /** [notification id, epoch ms the request was sent, epoch ms of its 202] per accepted notification. */
  accepts: [string, number, number][];
  /** Seconds from the first request to the last 202. */
  acceptSeconds: number;
  /** Latency of the 202 itself, in ms, one per accepted request. */
  ackMs: number[];
}

const args = JSON.parse(process.argv[2] ?? '{}') as OpenArgs;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const target = new URL('/v1/notifications', args.url);
const result: OpenResult = { sent: 0, accepted: 0, errors: 0, seconds: 0, accepts: [], ackMs: [], acceptSeconds: 0 };
let lastAccept = 0;
let inFlight = 0;

function post(i: number): void {
  const body = sendBody(i, args.users);
  const start = performance.now();
  const sentAt = Date.now();
  inFlight += 1;
  const req = http.request(target, { method: 'POST', agent, headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      inFlight -= 1;
      const at = Date.now();
      if (res.statusCode !== 202) return void (result.errors += 1);
      result.accepted += 1;
      lastAccept = performance.now();
      result.ackMs.push(lastAccept - start);
      const sent = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { notifications: { id: string }[] };
      for (const n of sent.notifications) result.accepts.push([n.id, sentAt, at]);
    });
  });
  req.on('error', () => {
    inFlight -= 1;
    result.errors += 1;
  });
  req.end(body);
}

const began = performance.now();
let next = args.offset ?? 0;
const first = next;
const total = Math.round(args.rate * args.seconds);
await new Promise<void>((resolve) => {
  const tick = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - began) / 1000) * args.rate));
    while (next - first < due) post(next++);
    if (next - first >= total) {
      clearInterval(tick);
      resolve();
    }
  }, 2);
});
result.sent = total;
result.seconds = (performance.now() - began) / 1000;
const deadline = Date.now() + 60_000;
while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
result.errors += inFlight;
result.acceptSeconds = (lastAccept - began) / 1000;
agent.destroy();
writeFileSync(args.out, JSON.stringify(result));
process.stdout.write(`${JSON.stringify({ sent: result.sent, accepted: result.accepted, errors: result.errors })}\n`);
