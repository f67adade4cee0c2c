import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';

describe('push sound, badge and collapse key', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  const send = (push: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['push'], category: 'chat', content: { push: { title: 'Ada', body: 'Hi', ...push } } } });
  const delivered = async (push: Record<string, unknown>) => {
    const res = await send(push);
    assert.equal(res.statusCode, 202, res.body);
    const id = res.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
    return eventually(8000, `${id} in the outbox`, async () => (await h.outbox()).find((l) => l.notificationId === id)?.content as Record<string, unknown> | undefined);
  };

  before(async () => {
    h = await startTestHerald();
    const res = await h.app.inject({ method: 'POST', url: '/v1/users/u-1/devices', headers: auth, payload: { platform: 'ios', token: 'ab'.repeat(32) } });
    assert.equal(res.statusCode, 201, res.body);
  });
  after(async () => {
    await h.close();
  });

  it('are recorded with the notification and reach the provider as given, a banner without sound (sound null) included', async () => {
    assert.deepEqual(await delivered({ sound: 'chime.caf', badge: 3, collapseKey: 'chat-42', link: 'https://chat.example/t/42' }), { title: 'Ada', body: 'Hi', sound: 'chime.caf', badge: 3, collapseKey: 'chat-42', link: 'https://chat.example/t/42' });
    assert.deepEqual(await delivered({ sound: null }), { title: 'Ada', body: 'Hi', sound: null });
  });

  it('come from a template too: a badge and a collapse key rendered from parameters, a sound as written', async () => {
    const created = await h.app.inject({ method: 'POST', url: '/v1/templates/chat', headers: auth, payload: { defaultLocale: 'en', locales: { en: { push: { title: '{{from}}', body: 'new message', sound: 'chime.caf', badge: '{{unread}}', collapseKey: 'chat-{{thread}}' } } } } });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(created.json<{ locales: { en: { push: object } } }>().locales.en.push, { title: '{{from}}', body: 'new message', sound: 'chime.caf', badge: '{{unread}}', collapseKey: 'chat-{{thread}}' });
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['push'], category: 'chat', template: { id: 'chat', params: { from: 'Ada', unread: 4, thread: 42 } } } });
    assert.equal(res.statusCode, 202, res.body);
    const id = res.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
    const content = await eventually(8000, `${id} in the outbox`, async () => (await h.outbox()).find((l) => l.notificationId === id)?.content);
    assert.deepEqual(content, { title: 'Ada', body: 'new message', sound: 'chime.caf', badge: 4, collapseKey: 'chat-42' });
    const bad = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['push'], category: 'chat', template: { id: 'chat', params: { from: 'Ada', unread: 'lots', thread: 42 } } } });
    assert.equal(bad.statusCode, 422, bad.body);
    assert.equal(bad.json<{ code: string }>().code, 'template_parameter_invalid');
  });

  it('a silent push (silent: true) carries only its data and collapse key, and goes through the policy like any push', async () => {
    const silent = { to: [{ userId: 'u-1' }], channels: ['push'], category: 'chat', content: { push: { silent: true, data: { sync: 'inbox' }, collapseKey: 'sync' } } };
    const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: silent });
    assert.equal(res.statusCode, 202, res.body);
    const id = res.json<{ notifications: { id: string }[] }>().notifications[0]!.id;
    assert.deepEqual(await eventually(8000, `${id} in the outbox`, async () => (await h.outbox()).find((l) => l.notificationId === id)?.content), { silent: true, data: { sync: 'inbox' }, collapseKey: 'sync' });
    const status = await eventually(8000, `${id} sent`, async () => {
      const view = (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<{ status: string }>();
      return view.status === 'sent' ? view : undefined;
    });
    assert.equal(status.status, 'sent');
  });

  it('a silent push with anything shown, or a shown one without title or body, is a 422 naming the fields', async () => {
    const post = (push: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['push'], category: 'chat', content: { push } } });
    const cases: [Record<string, unknown>, string[]][] = [
      [{ silent: true, title: 'Ada', body: 'Hi', sound: null, badge: 1, link: 'https://chat.example/t/42' }, ['/content/push/data', '/content/push/title', '/content/push/body', '/content/push/sound', '/content/push/badge', '/content/push/link']],
      [{ data: { a: 'b' } }, ['/content/push/title', '/content/push/body']],
      [{ silent: false, title: 'Ada', body: 'Hi' }, ['/content/push/silent']],
      [{ silent: true }, ['/content/push/data']],
      [{ silent: true, data: {}, collapseKey: 'sync' }, ['/content/push/data']],
    ];
    for (const [push, paths] of cases) {
      const res = await post(push);
      assert.equal(res.statusCode, 422, JSON.stringify(push));
      assert.deepEqual(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path).sort(), paths.sort(), JSON.stringify(push));
    }
  });

  it('are refused with a 422 naming the field when a provider would refuse them', async () => {
    for (const [push, path] of [[{ sound: '../x' }, '/content/push/sound'], [{ badge: -1 }, '/content/push/badge'], [{ badge: 1.5 }, '/content/push/badge'], [{ collapseKey: 'c'.repeat(65) }, '/content/push/collapseKey'], [{ collapseKey: 'ünï' }, '/content/push/collapseKey'], [{ link: 'http://chat.example/t/42' }, '/content/push/link'], [{ link: '/t/42' }, '/content/push/link']] as const) {
      const res = await send(push);
      assert.equal(res.statusCode, 422, JSON.stringify(push));
      assert.deepEqual(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path), [path], JSON.stringify(push));
    }
  });
});
