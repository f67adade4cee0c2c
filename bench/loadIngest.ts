/**
 * The ingest load generator, run as its own process so that it does not share Herald's event
 * loop: autocannon POSTs single-recipient notifications (mixed 10 : 1 : 5), or batches of them
 * (`batch`), and prints one JSON line with its summary on stdout.
 *
 *   node --import tsx bench/loadIngest.ts '{"url":"http://127.0.0.1:3000","users":1000,"connections":32,"duration":10}'
 */
import autocannon from 'autocannon';
import { BENCH_API_KEY, batchBody, sendBody } from './mix.ts';

export interface IngestArgs {
  url: string;
  users: number;
  connections: number;
  /** Seconds; ignored when `amount` is given. */
  duration?: number;
  /** Exactly this many requests, as fast as they are answered. */
  amount?: number;
  /** Offsets the request counter so repeated runs spread over users differently. */
  offset?: number;
  /** Users per request (default 1): each request is this many notifications. */
  recipients?: number;
  /** Sends per request through POST /v1/notifications/batch, one recipient each (overrides `recipients`). */
  batch?: number;
  /** The sends' category (default: the bench's unlimited one). */
  category?: string;
  /** Each single send with an idempotency key of its own (not with `batch`). */
  keyed?: boolean;
}

export interface IngestSummary {
  requests: number;
  accepted: number;
  errors: number;
  seconds: number;
  perSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** Epoch ms just before the first request. */
  startedAt: number;
  /** Epoch ms of the last response (0: none). */
  finishedAt: number;
}

/** Printed (as a line of its own, before the summary) the moment the last of `amount` responses arrives. */
export interface IngestFinished {
  finishedAt: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as IngestArgs;
let i = args.offset ?? 0;
let responses = 0;
let finishedAt = 0;
/**
 * With `amount`, autocannon stops only at its next one-second tick after the last response, and
 * reports that as its duration. The bench times from the first request to the last response
 * instead, and is told of it at once, so that waiting for the tick is not counted as Herald's.
 */
const onResponse = () => {
  responses += 1;
  finishedAt = Date.now();
  if (responses === args.amount) process.stdout.write(`${JSON.stringify({ finishedAt } satisfies IngestFinished)}\n`);
};
const startedAt = Date.now();
const result = await autocannon({
  url: args.url,
  connections: args.connections,
  timeout: 30,
  ...(args.amount ? { amount: args.amount } : { duration: args.duration ?? 10 }),
  headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
  requests: [
    args.batch
      ? { method: 'POST', path: '/v1/notifications/batch', setupRequest: (req) => ({ ...req, body: batchBody(i++, args.users, args.batch!, args.category) }) }
      : { method: 'POST', path: '/v1/notifications', setupRequest: (req) => ({ ...req, body: sendBody(i++, args.users, args.recipients, args.category, args.keyed) }) },
  ],
  setupClient: (client) => client.on('response', onResponse),
});
const seconds = args.amount && finishedAt > 0 ? (finishedAt - startedAt) / 1000 : result.duration;
const accepted = result.statusCodeStats?.['202']?.count ?? result['2xx'];
const summary: IngestSummary = {
  requests: result.requests.total,
  accepted,
  errors: result.errors + result.timeouts + result.non2xx,
  seconds,
  perSecond: accepted / seconds,
  latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  startedAt,
  finishedAt,
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
