import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { outgoingEmail } from '../../src/tracking/outgoingEmail.ts';
import { substitute } from '../../src/tracking/substitutions.ts';
import { unsubscribeUrl } from '../../src/tracking/listUnsubscribe.ts';
import { checkUnsubscribeTag, UNSUBSCRIBE_TAG, UnsubscribeLinkUnavailableError } from '../../src/domain/unsubscribeTag.ts';

const options = { secret: randomBytes(32), publicUrl: 'https://herald.example.com' };
const id = '0190a0b0-0000-7000-8000-000000000001';
const request = { notificationId: id, channel: 'email' as const, transactional: false };
const email = {
  subject: 'This week',
  html: `<p><a href="https://shop.example/new">New</a></p><p><a href="${UNSUBSCRIBE_TAG}">Unsubscribe</a></p>`,
  text: `New: https://shop.example/new\nUnsubscribe: ${UNSUBSCRIBE_TAG}`,
};

describe('the unsubscribe link in an email\'s body', () => {
  it('becomes the notification\'s signed link, as a substitution beside the tracking ones, and is not itself click-tracked', () => {
    const out = outgoingEmail(email, request, { emailTracking: options, listUnsubscribe: options });
    assert.equal(out.substitutions?.[UNSUBSCRIBE_TAG], unsubscribeUrl(options, id));
    assert.ok(out.content.html?.includes(`href="${UNSUBSCRIBE_TAG}"`), 'the tag stays for SendGrid to replace, not wrapped in a click redirect');
    assert.equal(out.content.text, email.text, 'the text part keeps its tag too');
    assert.ok(Object.keys(out.substitutions ?? {}).some((tag) => tag !== UNSUBSCRIBE_TAG), 'the tracking tags are still substitutions: the content is shared');
    const final = substitute(out.content, out.substitutions);
    assert.ok(final.html?.includes(`href="${unsubscribeUrl(options, id)}"`));
    assert.ok(final.text?.endsWith(`Unsubscribe: ${unsubscribeUrl(options, id)}`));
    assert.equal(out.headers?.['List-Unsubscribe'], `<${unsubscribeUrl(options, id)}>`);
  });

  it('works with tracking off, and two notifications of the same email differ only in their substitutions', () => {
    const a = outgoingEmail(email, request, { listUnsubscribe: options });
    const b = outgoingEmail(email, { ...request, notificationId: '0190a0b0-0000-7000-8000-000000000002' }, { listUnsubscribe: options });
    assert.deepEqual(a.content, b.content);
    assert.notEqual(a.substitutions?.[UNSUBSCRIBE_TAG], b.substitutions?.[UNSUBSCRIBE_TAG]);
  });

  it('adds nothing to an email without the tag, and an empty link to one recorded as transactional (refused before the 202 since)', () => {
    assert.equal(outgoingEmail({ subject: 's', text: 't' }, request, { listUnsubscribe: options }).substitutions, undefined);
    assert.deepEqual(outgoingEmail(email, { ...request, transactional: true }, { listUnsubscribe: options }).substitutions, { [UNSUBSCRIBE_TAG]: '' });
  });
});

describe('a send whose email holds the unsubscribe tag', () => {
  const rules = { category: 'news', transactional: false, linksOn: true, from: 'content/email' as const };
  it('is taken in a category people can opt out of, with the links on', () => {
    assert.doesNotThrow(() => checkUnsubscribeTag(email, rules));
    assert.doesNotThrow(() => checkUnsubscribeTag({ subject: 's', text: 't' }, { ...rules, transactional: true, linksOn: false }), 'no tag, no rule');
  });
  it('is refused, saying why and where, when the email would get no link', () => {
    for (const [given, why] of [[{ ...rules, transactional: true }, /category news is transactional/], [{ ...rules, linksOn: false, from: 'template' as const }, /HERALD_LIST_UNSUBSCRIBE=false/]] as const) {
      assert.throws(() => checkUnsubscribeTag(email, given), (e: unknown) => e instanceof UnsubscribeLinkUnavailableError && why.test(e.message) && e.from === given.from);
    }
  });
});

describe('an email sent with HTML only', () => {
  const html = `<table width="100%"><tr><td><h1>Order 4711 shipped</h1><p>Your order <b>4711</b> is on its way.</p></td></tr></table><table><tr><th>Item</th><th>Qty</th></tr><tr><td>Kettle</td><td>1</td></tr></table><p><a href="https://shop.example/o/4711">Track it</a></p><img src="https://shop.example/logo.png" alt="Shop"><p><a href="${UNSUBSCRIBE_TAG}">Unsubscribe</a></p>`;

  it('gets a text part made from it: headings, tables and links readable, images left out, the links untracked', () => {
    const out = outgoingEmail({ subject: 'Shipped', html }, request, { emailTracking: options, listUnsubscribe: options });
    const text = substitute(out.content, out.substitutions).text ?? '';
    assert.match(text, /^ORDER 4711 SHIPPED\n\nYour order 4711 is on its way\./);
    assert.match(text, /ITEM +QTY\nKettle +1/);
    assert.match(text, /Track it \[https:\/\/shop\.example\/o\/4711\]/, 'the link as written, not the click redirect');
    assert.ok(text.endsWith(`Unsubscribe [${unsubscribeUrl(options, id)}]`), text);
    assert.doesNotMatch(text, /logo|<|>/);
  });

  it('keeps a text part the sender wrote, and adds none to HTML without words', () => {
    assert.equal(outgoingEmail({ subject: 's', html, text: 'Mine' }, request, {}).content.text, 'Mine');
    assert.equal(outgoingEmail({ subject: 's', html: '<img src="https://shop.example/banner.png">' }, request, {}).content.text, undefined);
  });
});
