import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';
import { bearer, createApp, type Harness } from './helpers.ts';
import { eventually } from '../support/wait.ts';

type TemplatePage = { templates: { templateId: string; latestVersion: number; defaultLocale: string; locales: string[]; channels: string[]; createdAt: string; updatedAt: string }[]; nextCursor: string | null };
type CategoryPage = { categories: { category: string; transactional: boolean; marketing: boolean; rateLimit: unknown; updatedAt: string }[]; nextCursor: string | null };

describe('listing templates and categories', () => {
  let h: Harness;
  const get = async <T>(url: string, headers = auth) => {
    const res = await h.app.inject({ method: 'GET', url, headers });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<T>();
  };

  before(async () => {
    h = await startTestHerald();
    const write = async (method: 'POST' | 'PUT', url: string, payload: object) => assert.ok((await h.app.inject({ method, url, headers: auth, payload })).statusCode < 300, url);
    await write('POST', '/v1/templates/welcome', { defaultLocale: 'en', locales: { en: { sms: { body: 'Hi' } } } });
    await write('PUT', '/v1/templates/welcome', { defaultLocale: 'en', locales: { en: { sms: { body: 'Hi {{name}}' }, email: { subject: 'Hi', text: 'Hi' } }, ko: { push: { title: '안녕', body: '' } } } });
    await write('POST', '/v1/templates/alert', { defaultLocale: 'en', locales: { en: { push: { title: 'Alert', body: 'b' } } } });
    await write('POST', '/v1/templates/digest', { defaultLocale: 'en', locales: { en: { email: { subject: 'Digest', text: 't' } } } });
    await write('PUT', '/v1/categories/password-reset', { transactional: true });
    await write('PUT', '/v1/categories/promo', { marketing: true, rateLimit: { max: 3, windowSeconds: 86400 } });
  });
  after(async () => {
    await h.close();
  });

  it('lists every template by id, a page at a time, with its latest version, locales and channels', async () => {
    const first = await eventually(8000, 'three templates listed', async () => {
      const page = await get<TemplatePage>('/v1/templates?limit=2');
      return page.templates.length === 2 && page.nextCursor ? page : undefined;
    });
    assert.deepEqual(first.templates.map((t) => t.templateId), ['alert', 'digest']);
    const rest = await get<TemplatePage>(`/v1/templates?limit=2&cursor=${first.nextCursor}`);
    assert.deepEqual(rest.templates.map((t) => [t.templateId, t.latestVersion, t.locales, t.channels]), [['welcome', 2, ['en', 'ko'], ['push', 'sms', 'email']]]);
    assert.equal(rest.nextCursor, null);
    assert.ok(rest.templates[0]!.createdAt < rest.templates[0]!.updatedAt || rest.templates[0]!.createdAt === rest.templates[0]!.updatedAt);
  });

  it('lists the configured categories by name with their rules', async () => {
    const page = await eventually(8000, 'two categories listed', async () => {
      const p = await get<CategoryPage>('/v1/categories');
      return p.categories.length === 2 ? p : undefined;
    });
    assert.deepEqual(page.categories.map((c) => [c.category, c.transactional, c.marketing, c.rateLimit !== null]), [['password-reset', true, false, false], ['promo', false, true, true]]);
    assert.equal(page.nextCursor, null);
  });

  it('needs the read scope, and refuses a cursor from elsewhere', async () => {
    const sender = await createApp(h, ['send']);
    assert.equal((await h.app.inject({ method: 'GET', url: '/v1/templates', headers: bearer(sender.token) })).statusCode, 403);
    const reader = await createApp(h, ['read']);
    await get<TemplatePage>('/v1/categories', bearer(reader.token));
    assert.equal((await h.app.inject({ method: 'GET', url: '/v1/templates?cursor=nope', headers: auth })).statusCode, 422);
  });
});
