/**
 * What the benchmark sends, shared by the in-process setup and the load-generating child
 * processes: the users it creates and the request bodies, mixed like the daily target
 * (10M push : 1M SMS : 5M email, i.e. 10 : 1 : 5).
 */

export const BENCH_API_KEY = 'bench-key-0123456789abcdef';

export type BenchChannel = 'push' | 'sms' | 'email';

/** Out of every 16 notifications: 10 push, 1 SMS, 5 email. */
export function channelFor(i: number): BenchChannel {
  const slot = i % 16;
  return slot < 10 ? 'push' : slot === 10 ? 'sms' : 'email';
}

export const userIdFor = (n: number) => `bench-u-${n}`;

/** The category every send uses: no rate limit, like a transactional category. */
export const BENCH_CATEGORY = 'orders';

/**
 * A marketing category with a per-user rate limit, for the end-to-end row that measures what the
 * limit costs (each send reads its user's window and appends a slot). The limit is one no run
 * reaches (each user gets about 20 such sends), so every send is still delivered.
 */
export const LIMITED_CATEGORY = 'digest';
export const LIMITED_POLICY = { marketing: true, rateLimit: { max: 100, windowSeconds: 3600, window: 'sliding', overLimit: 'suppress' } } as const;

export interface BenchUser {
  userId: string;
  profile: { email: string; phone: string; locale: string; timezone: string };
  devices: { platform: 'ios' | 'android'; token: string }[];
}

/** 45% iOS only, 45% Android only, 10% both; every user also has a phone and an email. */
export function benchUser(n: number): BenchUser {
  const hex = (n * 2654435761 >>> 0).toString(16).padStart(8, '0');
  const ios = { platform: 'ios' as const, token: `${hex}${'ab'.repeat(28)}` };
  const android = { platform: 'android' as const, token: `fcm-${hex}-${'x'.repeat(40)}` };
  const kind = n % 20;
  return {
    userId: userIdFor(n),
    profile: { email: `user-${n}@bench.example`, phone: `+1415${String(2_000_000 + (n % 7_000_000)).padStart(7, '0')}`, locale: 'en-US', timezone: 'America/New_York' },
    devices: kind < 9 ? [ios] : kind < 18 ? [android] : [ios, android],
  };
}

const CONTENT = {
  push: { title: 'Your order shipped', body: 'Order 4711 is on its way and arrives Thursday.', data: { orderId: '4711' } },
  sms: { body: 'Herald: order 4711 shipped, arrives Thursday.' },
  email: { subject: 'Order 4711 shipped', text: 'Your order 4711 is on its way and arrives Thursday.', html: '<p>Your order <b>4711</b> is on its way.</p>' },
};

/**
 * The i-th request body: one channel, `recipients` distinct users (every bench user has every
 * channel, so a request is exactly `recipients` notifications). One recipient is the default.
 * `keyed`: with an idempotency key of its own (`bench-<i>`), as a careful sender sends.
 */
export function sendBody(i: number, users: number, recipients = 1, category = BENCH_CATEGORY, keyed = false): string {
  const channel = channelFor(i);
  const to = Array.from({ length: Math.min(recipients, users) }, (_, k) => ({ userId: userIdFor((i * 7919 + k) % users) }));
  return JSON.stringify({ to, channels: [channel], category, content: { [channel]: CONTENT[channel] }, ...(keyed ? { idempotencyKey: `bench-${i}` } : {}) });
}

/**
 * The i-th request body for POST /v1/notifications/batch: `items` single-recipient sends, item j
 * of the whole run numbered i × items + k, so a run of batches has the same 10 : 1 : 5 mix and
 * spread over users as a run of single sends.
 */
export function batchBody(i: number, users: number, items: number, category = BENCH_CATEGORY): string {
  const requests = Array.from({ length: items }, (_, k) => {
    const j = i * items + k;
    const channel = channelFor(j);
    return { to: [{ userId: userIdFor((j * 7919) % users) }], channels: [channel], category, content: { [channel]: CONTENT[channel] } };
  });
  return JSON.stringify({ requests });
}
