import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TemplateVersion } from '../../src/domain/template.ts';
import { renderTemplate, TemplateRenderError } from '../../src/templates/render.ts';
import { resolveLocale } from '../../src/templates/locales.ts';
import { checkParameters, listParameters, missingParameters } from '../../src/templates/parameterChecks.ts';

const order: TemplateVersion = {
  templateId: 'order-shipped',
  version: 3,
  defaultLocale: 'en',
  createdAt: '2026-11-01T00:00:00.000Z',
  locales: {
    en: {
      push: { title: 'Order {{order.id}} shipped', body: 'Hi {{name}}', data: { orderId: '{{order.id}}' } },
      sms: { body: '{{name}}: order {{order.id}} is on its way' },
      email: { subject: 'Your order {{order.id}} & more', html: '<p>Hi {{name}}</p>{{#if note}}<p>{{note}}</p>{{/if}}', text: 'Hi {{name}}' },
    },
    ko: {
      push: { title: '주문 {{order.id}} 발송', body: '{{name}}님, 안녕하세요' },
      sms: { body: '{{name}}님, 주문 {{order.id}} 발송' },
    },
    'ko-KR': { sms: { body: '[KR] {{name}}님, 주문 {{order.id}} 발송' } },
  },
};
const params = { name: 'Ada', order: { id: 'A-42' } };

describe('locale fallback: ko-KR → ko → the default, per channel (zh-TW → zh-Hant → zh)', () => {
  it('an exact match wins, case-insensitively', () => {
    assert.equal(resolveLocale(order, 'ko-kr', 'sms'), 'ko-KR');
    assert.equal(renderTemplate(order, 'KO-KR', params).sms?.body, '[KR] Ada님, 주문 A-42 발송');
  });

  it('ko-KR without push falls back to ko for push', () => {
    assert.equal(renderTemplate(order, 'ko-KR', params).push?.title, '주문 A-42 발송');
  });

  it('a region the template lacks (ko-KP) falls back to the language (ko)', () => {
    assert.equal(renderTemplate(order, 'ko-KP', params).sms?.body, 'Ada님, 주문 A-42 발송');
  });

  it('a region that implies a script gets that script before the bare language: zh-TW and zh-HK read Traditional, zh-CN Simplified', () => {
    const chinese: TemplateVersion = { ...order, locales: { en: { sms: { body: 'Hi' } }, zh: { sms: { body: '你好 (zh)' } }, 'zh-Hant': { sms: { body: '妳好 (zh-Hant)' } } } };
    for (const [locale, expected] of [['zh-TW', 'zh-Hant'], ['zh-HK', 'zh-Hant'], ['zh_TW', 'zh-Hant'], ['zh-Hant-TW', 'zh-Hant'], ['zh-CN', 'zh'], ['zh', 'zh'], ['zh-Hans', 'zh'], ['en-GB', 'en']] as const) {
      assert.equal(resolveLocale(chinese, locale, 'sms'), expected, locale);
    }
    const both: TemplateVersion = { ...chinese, locales: { ...chinese.locales, 'zh-Hans': { sms: { body: '你好 (zh-Hans)' } } } };
    assert.equal(resolveLocale(both, 'zh-CN', 'sms'), 'zh-Hans');
    assert.equal(resolveLocale(both, 'zh', 'sms'), 'zh', 'an exact match still wins');
    assert.equal(resolveLocale(chinese, 'not a locale!', 'sms'), 'en', 'a tag Intl cannot read falls back as before');
  });

  it("Android's legacy language codes (iw_IL, in_ID, ji) read the template's canonical keys (he, id, yi)", () => {
    const legacy: TemplateVersion = { ...order, locales: { en: { sms: { body: 'Hi' } }, he: { sms: { body: 'שלום' } }, id: { sms: { body: 'Halo' } }, yi: { sms: { body: 'שלום (yi)' } } } };
    for (const [locale, expected] of [['iw_IL', 'he'], ['iw-IL', 'he'], ['in_ID', 'id'], ['ji', 'yi'], ['he-IL', 'he']] as const) {
      assert.equal(resolveLocale(legacy, locale, 'sms'), expected, locale);
    }
  });

  it('a locale with no translation at all, or none known, gets the default', () => {
    assert.equal(renderTemplate(order, 'fr-FR', params).sms?.body, 'Ada: order A-42 is on its way');
    assert.equal(renderTemplate(order, null, params).push?.body, 'Hi Ada');
  });

  it('a channel missing from every candidate locale falls back to the default locale\'s part', () => {
    assert.equal(resolveLocale(order, 'ko', 'email'), 'en');
    assert.equal(renderTemplate(order, 'ko', params).email?.subject, 'Your order A-42 & more');
  });

  it('renders push data values as templates too', () => {
    assert.deepEqual(renderTemplate(order, 'en', params).push, { title: 'Order A-42 shipped', body: 'Hi Ada', data: { orderId: 'A-42' } });
  });
});

describe('escaping: HTML-escaped in email html only', () => {
  const hostile = { name: '<b>Tom & "Jerry"</b>', order: { id: '<1>' } };

  it('email html escapes parameters', () => {
    assert.equal(renderTemplate(order, 'en', hostile).email?.html, '<p>Hi &lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;</p>');
  });

  it('sms, push, email subject and text keep them as they are', () => {
    const out = renderTemplate(order, 'en', hostile);
    assert.equal(out.sms?.body, '<b>Tom & "Jerry"</b>: order <1> is on its way');
    assert.equal(out.push?.body, 'Hi <b>Tom & "Jerry"</b>');
    assert.equal(out.email?.subject, 'Your order <1> & more');
    assert.equal(out.email?.text, 'Hi <b>Tom & "Jerry"</b>');
  });

  it('an optional {{#if}} branch renders only when its parameter is given', () => {
    assert.equal(renderTemplate(order, 'en', { ...params, note: 'Leave at door' }).email?.html, '<p>Hi Ada</p><p>Leave at door</p>');
  });
});

describe('a missing parameter is a TemplateRenderError naming the part', () => {
  const renderError = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      if (error instanceof TemplateRenderError) return error;
      throw error;
    }
    assert.fail('expected a TemplateRenderError');
  };

  it('no name → template_parameter_missing in push.body of ko (push title renders first)', () => {
    const e = renderError(() => renderTemplate(order, 'ko', { order: { id: '1' } }));
    assert.deepEqual([e.code, e.field, e.locale, e.detail], ['template_parameter_missing', 'push.body', 'ko', 'missing parameter "name"']);
  });

  it('a nested value missing (order.id) names the part that reads it', () => {
    const e = renderError(() => renderTemplate({ ...order, locales: { en: { email: { subject: 'Order {{order.id}}', text: 'x' } } } }, 'en', { order: {} }));
    assert.deepEqual([e.code, e.field, e.detail], ['template_parameter_missing', 'email.subject', 'missing parameter "id"']);
  });

  it('a printed parameter given as null is missing, not an empty gap; an optional one given as null is left out', () => {
    const e = renderError(() => renderTemplate(order, 'en', { name: null, order: { id: '1' } }, ['sms']));
    assert.deepEqual([e.code, e.field], ['template_parameter_missing', 'sms.body']);
    assert.match(e.detail, /^missing parameter "name" \(null, which counts as missing/);
    const nested = renderError(() => renderTemplate(order, 'en', { name: 'Ada', order: { id: null } }, ['sms']));
    assert.deepEqual([nested.code, nested.detail.split(' (')[0]], ['template_parameter_missing', 'missing parameter "id"']);
    assert.equal(renderTemplate(order, 'en', { ...params, note: null }, ['email']).email?.html, '<p>Hi Ada</p>');
    assert.deepEqual(missingParameters(order, { name: null, order: { id: '1' } }, { locales: ['en'], channels: ['sms'] }), [{ name: 'name', locale: 'en', field: 'sms.body' }]);
  });

  it('a block reading through a missing object is a missing parameter too', () => {
    const e = renderError(() => renderTemplate({ ...order, locales: { en: { sms: { body: '{{#if order.paid}}paid{{/if}}' } } } }, 'en', {}));
    assert.deepEqual([e.code, e.field], ['template_parameter_missing', 'sms.body']);
  });

  it('an object or a list printed as text is template_parameter_invalid naming its path, never "[object Object]"', () => {
    const greet = { ...order, locales: { en: { email: { subject: 'Hi {{name}}', text: '{{#each items}}{{this}} {{/each}}' } } } };
    const object = renderError(() => renderTemplate(greet, 'en', { name: { first: 'Ada' }, items: [] }));
    assert.deepEqual([object.code, object.field, object.locale], ['template_parameter_invalid', 'email.subject', 'en']);
    assert.equal(object.detail, 'parameter "name" is an object, which cannot be printed as text: pass a string or a number, or print one of its fields, e.g. {{name.<field>}}');
    const list = renderError(() => renderTemplate(greet, 'en', { name: ['Ada', 'Lovelace'], items: [] }));
    assert.match(list.detail, /^parameter "name" is a list, which cannot be printed as text: pass a string or a number, or print its items with \{\{#each name\}\}/);
    const item = renderError(() => renderTemplate(greet, 'en', { name: 'Ada', items: [{ sku: 'x' }] }));
    assert.deepEqual([item.field, item.detail.split(',')[0]], ['email.text', 'parameter "items.0" is an object']);
    // Reading fields, looping and testing objects and lists is what they are for, and unchanged.
    const used = { ...order, locales: { en: { sms: { body: '{{order.id}}{{#if order.paid}} paid{{/if}}:{{#each items}} {{@key}}={{this}}{{/each}}{{#with order}} {{id}}{{/with}} {{lookup order "id"}}' } } } };
    assert.equal(renderTemplate(used, 'en', { order: { id: 7, paid: true }, items: { a: 1, b: [2, 3].length } }).sms?.body, '7 paid: a=1 b=2 7 7');
  });

  it('a push its parameters make larger than APNs and FCM take is template_parameter_invalid, before anything is sent', () => {
    const note = { ...order, locales: { en: { push: { title: 'Hi {{name}}', body: '{{text}}' } } } };
    assert.equal(renderTemplate(note, 'en', { name: 'Ada', text: 'x'.repeat(4000) }).push?.body.length, 4000);
    const e = renderError(() => renderTemplate(note, 'en', { name: 'Ada', text: 'x'.repeat(4100) }));
    assert.deepEqual([e.code, e.field, e.locale], ['template_parameter_invalid', 'push', 'en']);
    assert.match(e.detail, /^rendered with these parameters, the push payload \(title, body, data, sound and badge\) is 4\d{3} bytes as JSON, over the 4096 bytes APNs and FCM take/);
  });

  it('renders a push\'s badge and collapse key from parameters and keeps its sound; a badge or key the providers refuse is template_parameter_invalid', () => {
    const chat = { ...order, locales: { en: { push: { title: '{{from}}', body: 'new message', sound: null, badge: '{{unread}}', collapseKey: 'chat-{{thread}}', link: 'https://chat.example/t/{{thread}}' } } } };
    assert.deepEqual(renderTemplate(chat, 'en', { from: 'Ada', unread: 3, thread: 42 }).push, { title: 'Ada', body: 'new message', sound: null, badge: 3, collapseKey: 'chat-42', link: 'https://chat.example/t/42' });
    assert.deepEqual(listParameters(chat), ['from', 'thread', 'unread']);
    const fixed = { ...order, locales: { en: { push: { title: 't', body: 'b', sound: 'chime.caf', badge: 0 } } } };
    assert.deepEqual(renderTemplate(fixed, 'en', {}).push, { title: 't', body: 'b', sound: 'chime.caf', badge: 0 });
    for (const [given, field] of [[{ from: 'Ada', unread: 'many', thread: 1 }, 'push.badge'], [{ from: 'Ada', unread: 100_000, thread: 1 }, 'push.badge'], [{ from: 'Ada', unread: 1, thread: 'a b' }, 'push.collapseKey'], [{ from: 'Ada', unread: 1, thread: 'x'.repeat(60) }, 'push.collapseKey']] as const) {
      const e = renderError(() => renderTemplate(chat, 'en', given));
      assert.deepEqual([e.code, e.field], ['template_parameter_invalid', field], JSON.stringify(given));
    }
  });

  it('an SMS or an email subject its parameters make longer than Twilio or a mail header takes is template_parameter_invalid', () => {
    const long = { ...order, locales: { en: { sms: { body: '{{text}}' }, email: { subject: 'Re: {{text}}', text: 'x' } } } };
    assert.equal(renderTemplate(long, 'en', { text: 'x'.repeat(994) }).email?.subject.length, 998);
    const sms = renderError(() => renderTemplate(long, 'en', { text: 'x'.repeat(1601) }));
    assert.deepEqual([sms.code, sms.field, sms.detail], ['template_parameter_invalid', 'sms.body', 'rendered with these parameters, it is 1601 characters, over the 1600 Twilio takes']);
    const subject = renderError(() => renderTemplate({ ...long, locales: { en: { email: { subject: 'Re: {{text}}', text: 'x' } } } }, 'en', { text: 'x'.repeat(995) }));
    assert.deepEqual([subject.field, subject.detail], ['email.subject', 'rendered with these parameters, it is 999 characters, over the 998 a mail header line takes']);
  });

  it('an SMS or both email bodies rendered empty are template_parameter_invalid; one empty email body is left out', () => {
    const optional = { ...order, locales: { en: { sms: { body: '{{#if code}}Code {{code}}{{/if}}' }, email: { subject: 'Hi', html: '{{#if promo}}<p>{{promo}}</p>{{/if}}', text: '{{#if note}}{{note}}{{/if}}' } } } };
    const sms = renderError(() => renderTemplate({ ...optional, locales: { en: { sms: optional.locales.en.sms } } }, 'en', {}));
    assert.deepEqual([sms.code, sms.field, sms.detail], ['template_parameter_invalid', 'sms.body', 'rendered with these parameters, it is empty, which Twilio refuses']);
    assert.deepEqual(renderTemplate({ ...optional, locales: { en: { email: optional.locales.en.email } } }, 'en', { note: 'Hello' }).email, { subject: 'Hi', text: 'Hello' }, 'the empty html is left out');
    const email = renderError(() => renderTemplate({ ...optional, locales: { en: { email: optional.locales.en.email } } }, 'en', {}));
    assert.deepEqual([email.code, email.field], ['template_parameter_invalid', 'email']);
  });

  it('renders the same source again from the cache, and a different source under the same key anew', () => {
    const a = { ...order, locales: { en: { sms: { body: 'A {{name}}' } } } };
    const b = { ...order, locales: { en: { sms: { body: 'B {{name}}' } } } };
    assert.equal(renderTemplate(a, 'en', params).sms?.body, 'A Ada');
    assert.equal(renderTemplate(b, 'en', params).sms?.body, 'B Ada');
    assert.equal(renderTemplate(a, 'en', params).sms?.body, 'A Ada');
  });
});

describe('parameters a template uses', () => {
  it('lists every root-level name of every locale and part, sorted', () => {
    assert.deepEqual(listParameters(order), ['name', 'note', 'order.id']);
  });

  it('looks through each/with contexts and block params to the root', () => {
    const loop: TemplateVersion = { ...order, locales: { en: { sms: { body: '{{#each items as |item|}}{{item.sku}} {{qty}} {{../currency}} {{@root.shop}}{{/each}}{{#with user}}{{first}}{{/with}}' } } } };
    assert.deepEqual(listParameters(loop), ['currency', 'items', 'shop', 'user']);
    assert.deepEqual(missingParameters(loop, {}), []);
  });

  it('finds what is missing for the recipients\' locales only, conditional names excepted', () => {
    assert.deepEqual(missingParameters(order, { name: 'Ada' }, { locales: ['ko-KR'], channels: ['sms'] }), [{ name: 'order.id', locale: 'ko-KR', field: 'sms.body' }]);
    assert.deepEqual(missingParameters(order, params), []);
    const everywhere = missingParameters(order, { order: { id: '1' } }).map((m) => `${m.locale}/${m.field}`);
    assert.ok(everywhere.includes('en/email.html') && everywhere.includes('ko/push.body') && everywhere.includes('ko-KR/sms.body'), everywhere.join());
    assert.ok(!missingParameters(order, params).some((m) => m.name === 'note'));
  });

  it('checkParameters throws the first gap as a TemplateRenderError', () => {
    assert.throws(() => checkParameters(order, {}, { locales: [null], channels: ['email'] }), (e: unknown) => e instanceof TemplateRenderError && e.code === 'template_parameter_missing' && e.field === 'email.subject');
    assert.doesNotThrow(() => checkParameters(order, params, { locales: ['en', 'ko'] }));
  });
});
