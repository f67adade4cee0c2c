import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CallbackLane, type LaneOutcomes, type Pending } from '../../src/processors/callbackLane.ts';
import type { CallbackConfig } from '../../src/callbacks/config.ts';
import type { CallbackItem } from '../../src/callbacks/payload.ts';
import { createLogger } from '../../src/logger.ts';
import { eventually } from '../support/wait.ts';
import { startReceiver } from './receiver.ts';

const config: CallbackConfig = { timeoutMs: 200, maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5000 };
const log = createLogger('silent');

/** What the lane reported, in order. */
function recorder() {
  const seen: { kind: string; ids: string[]; reason?: string }[] = [];
  const ids = (batch: Pending[]) => batch.map((p) => p.item.id);
  const outcomes: LaneOutcomes = {
    delivered: async (batch) => void seen.push({ kind: 'delivered', ids: ids(batch) }),
    givenUp: async (batch, reason) => void seen.push({ kind: 'given_up', ids: ids(batch), reason }),
    handedBack: async (batch) => void seen.push({ kind: 'handed_back', ids: ids(batch) }),
    retried: (batch, reason) => void seen.push({ kind: 'retried', ids: ids(batch), reason }),
  };
  return { seen, outcomes, final: () => seen.filter((s) => s.kind !== 'retried') };
}

let n = 0;
const pending = (url: string): Pending => {
  n++;
  const item = { id: `e${n}`, type: 'notification.sent', outcome: 'sent', appId: 'a1', notificationId: `n${n}`, userId: 'u', channel: 'email', category: 'c', occurredAt: '2026-11-29T10:00:00.000Z', details: {} } satisfies CallbackItem;
  return { pe: { event: { id: item.id, streamName: 's', revision: 0, position: n, type: 'NotificationSent', data: {}, metadata: {}, created: 0 }, retryCount: 0 }, item, target: { url, secrets: ['whsec_test'] } };
};

describe('one app\'s callback lane: retries, give-ups, batches, stops', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    receiver = await startReceiver({
      '/silent': () => 'never',
      '/busy': (_r, nth) => (nth === 1 ? { status: 429 } : nth === 2 ? { status: 408 } : { status: 204 }),
      '/gone': () => ({ status: 404 }),
      '/slow-first': (_r, nth) => ({ status: 200, delayMs: nth === 1 ? 150 : 0 }),
      '/redirect': () => ({ status: 302, headers: { location: 'http://127.0.0.1:1/' } }),
      '/down': () => ({ status: 503 }),
    });
  });
  after(async () => {
    await receiver.close();
  });

  it('a receiver that does not answer in time is tried maxAttempts times, then the batch is given up', async () => {
    const r = recorder();
    // Long enough for each request to reach the receiver on a busy machine: it is the answer that never comes.
    const lane = new CallbackLane('a1', { ...config, timeoutMs: 1000 }, r.outcomes, new AbortController().signal, log);
    const p = pending(receiver.url('/silent'));
    lane.push(p);
    await lane.idle();
    assert.deepEqual(r.final(), [{ kind: 'given_up', ids: [p.item.id], reason: 'no answer within 1000 ms at attempt 3 of 3' }]);
    assert.equal(r.seen.filter((s) => s.kind === 'retried').length, 2);
    assert.equal(receiver.at('/silent').length, 3);
  });

  it('a connection refused is retried, then given up', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const r = recorder();
    const lane = new CallbackLane('a1', config, r.outcomes, new AbortController().signal, log);
    lane.push(pending(`http://127.0.0.1:${port}/hook`));
    await lane.idle();
    assert.equal(r.seen.filter((s) => s.kind === 'retried').length, 2);
    assert.match(r.final()[0]!.reason!, /^connection failed \(ECONNREFUSED\) at attempt 3 of 3$/);
  });

  it('429 and 408 are retried; 404 and a redirect are given up at once', async () => {
    const r = recorder();
    const lane = new CallbackLane('a1', config, r.outcomes, new AbortController().signal, log);
    const busy = pending(receiver.url('/busy'));
    lane.push(busy);
    await lane.idle();
    assert.deepEqual(r.seen.map((s) => [s.kind, s.reason]), [['retried', 'receiver answered 429'], ['retried', 'receiver answered 408'], ['delivered', undefined]]);
    for (const path of ['/gone', '/redirect']) {
      const refused = recorder();
      const other = new CallbackLane('a1', config, refused.outcomes, new AbortController().signal, log);
      other.push(pending(receiver.url(path)));
      await other.idle();
      assert.deepEqual(refused.seen.map((s) => s.kind), ['given_up'], path);
      assert.equal(receiver.at(path).length, 1, `${path}: one POST only`);
    }
  });

  it('events that queue up while a POST is out go together in the next; connections are kept alive', async () => {
    const r = recorder();
    const lane = new CallbackLane('a1', { ...config, timeoutMs: 5000 }, r.outcomes, new AbortController().signal, log);
    const [a, b, c] = [pending(receiver.url('/slow-first')), pending(receiver.url('/slow-first')), pending(receiver.url('/slow-first'))];
    lane.push(a);
    await eventually(2000, 'the first POST', () => (receiver.at('/slow-first').length > 0 ? true : undefined));
    lane.push(b);
    lane.push(c);
    await lane.idle();
    assert.deepEqual(r.seen, [{ kind: 'delivered', ids: [a.item.id] }, { kind: 'delivered', ids: [b.item.id, c.item.id] }]);
    const [, second] = receiver.at('/slow-first');
    assert.deepEqual((JSON.parse(second!.body) as CallbackItem[]).map((i) => i.id), [b.item.id, c.item.id], 'a JSON array of events');
    for (let i = 0; i < 4; i++) {
      lane.push(pending(receiver.url('/slow-first')));
      await lane.idle();
    }
    const ports = receiver.at('/slow-first').map((req) => req.remotePort);
    assert.ok(new Set(ports).size <= 2, `6 POSTs over ${new Set(ports).size} connections`);
  });

  it('once a batch used up its attempts, the batches queued behind it get one attempt each, until the queue is empty', async () => {
    const r = recorder();
    const lane = new CallbackLane('a1', { ...config, baseDelayMs: 100 }, r.outcomes, new AbortController().signal, log);
    const [a, b, c] = [pending(receiver.url('/down')), pending(receiver.url('/down')), pending(receiver.url('/down'))];
    lane.push(a);
    lane.push(b);
    await lane.idle();
    assert.deepEqual(r.final().map((s) => s.reason), ['receiver answered 503 at attempt 3 of 3', 'receiver answered 503, and the batch before was given up too (one attempt until the receiver answers again)']);
    assert.equal(receiver.at('/down').length, 4);
    lane.push(c);
    await lane.idle();
    assert.equal(receiver.at('/down').length, 7, 'a later event, after the queue emptied, gets every attempt again');
  });

  it('stopping hands back what the lane holds, without waiting for the receiver', async () => {
    const r = recorder();
    const stopping = new AbortController();
    const lane = new CallbackLane('a1', { ...config, timeoutMs: 30_000 }, r.outcomes, stopping.signal, log);
    const [a, b] = [pending(receiver.url('/silent')), pending(receiver.url('/silent'))];
    lane.push(a);
    lane.push(b);
    await eventually(2000, 'the POST', () => (receiver.hanging() > 0 ? true : undefined));
    const started = Date.now();
    stopping.abort();
    await lane.idle();
    assert.ok(Date.now() - started < 1000);
    assert.deepEqual(r.final(), [{ kind: 'handed_back', ids: [a.item.id] }, { kind: 'handed_back', ids: [b.item.id] }]);
  });
});
