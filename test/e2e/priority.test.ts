import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeliveryMessage, DeliveryProvider, DeliveryResult } from '../../src/ports/deliveryProvider.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';

/** A slow SMS provider: one message per call, one call at a time, 20 ms each, closed until `open()`. */
function slowSms(): DeliveryProvider & { order: string[]; open: () => void } {
  const order: string[] = [];
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return {
    id: 'slow-sms', route: 'sms', maxBatchSize: 1, limits: { concurrency: 1 }, order, open,
    async send(messages: readonly DeliveryMessage[]): Promise<DeliveryResult[]> {
      // Closed while the test builds a backlog, however slow the machine is that day.
      await gate;
      await new Promise((r) => setTimeout(r, 20));
      order.push(...messages.map((m) => (m.content as { body: string }).body));
      return messages.map(() => ({ status: 'sent', providerMessageId: `sms-${order.length}` }));
    },
    async close() {},
  };
}

describe('priority', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  const sms = slowSms();
  before(async () => {
    h = await startTestHerald({}, { providers: { sms } });
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { phone: '+14155550123' } });
  });
  after(async () => {
    await h.close();
  });

  it('a high-priority notification is not stuck behind a backlog of normal ones on the same channel', async () => {
    for (let i = 0; i < 40; i++) {
      await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], category: 'news', content: { sms: { body: `normal-${i}` } } } });
    }
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], category: 'security', priority: 'high', content: { sms: { body: 'URGENT' } } } });
    assert.equal(res.statusCode, 202);
    await new Promise((r) => setTimeout(r, 200));
    sms.open();
    await eventually(10_000, 'the backlog to drain', () => (sms.order.length === 41 ? true : undefined));
    const position = sms.order.indexOf('URGENT');
    assert.ok(position >= 0 && position < 3, `URGENT went out as message ${position + 1} of 41, ahead of the backlog`);
    assert.equal(new Set(sms.order).size, 41, 'each sent once');
  });
});
