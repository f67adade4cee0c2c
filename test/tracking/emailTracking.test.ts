import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { injectTracking, withEmailTracking } from '../../src/tracking/emailTracking.ts';
import { verifyLinkToken } from '../../src/tracking/linkToken.ts';
import { substitute } from '../../src/tracking/substitutions.ts';

const options = { secret: randomBytes(32), publicUrl: 'https://herald.example.com/' };
const id = '0190a0b0-0000-7000-8000-000000000001';
const tokenIn = (url: string, kind: 'o' | 'c') => url.replace(`https://herald.example.com/t/${kind}/`, '');

describe('email HTML tracking injection', () => {
  it('rewrites absolute http(s) links to signed redirects that lead back to the original URL', () => {
    const html = `<p><a href="https://example.com/a?x=1&amp;y=2">A</a> <a class='b' href='http://example.com/b'>B</a> <a href=https://example.com/c>C</a></p>`;
    const out = injectTracking(html, id, options);
    const hrefs = [...out.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(hrefs.length, 3);
    const targets = hrefs.map((h) => verifyLinkToken(options.secret, tokenIn(h, 'c')));
    assert.deepEqual(targets.map((t) => (t?.kind === 'click' ? t.url : null)), ['https://example.com/a?x=1&y=2', 'http://example.com/b', 'https://example.com/c']);
    assert.ok(targets.every((t) => t?.notificationId === id));
    assert.match(out, /class='b' href="/);
  });

  it('leads back to the URL a browser would follow, whatever character references the href holds', () => {
    // Handlebars escapes = as &#x3D; and ` as &#x60; in every {{url}} a template prints.
    const cases: [href: string, url: string][] = [
      ['https://shop.example/o?id&#x3D;42&amp;utm_source&#x3D;mail', 'https://shop.example/o?id=42&utm_source=mail'],
      ['https://shop.example/o?q=a&#61;b&#38;c', 'https://shop.example/o?q=a=b&c'],
      ['https://shop.example/p?a=1&copy=2', 'https://shop.example/p?a=1&copy=2'], // no semicolon before "=": not a reference, in an attribute
    ];
    for (const [href, url] of cases) {
      const out = injectTracking(`<a href="${href}">x</a>`, id, options);
      const token = verifyLinkToken(options.secret, tokenIn(/href="([^"]+)"/.exec(out)![1]!, 'c'));
      assert.equal(token?.kind === 'click' ? token.url : null, url, href);
    }
  });

  it('signs a link with characters beyond ASCII percent-encoded as UTF-8, the URL a browser follows and a Location header can hold', () => {
    const cases: [href: string, url: string][] = [
      ['https://shop.example/suche?q=日本', 'https://shop.example/suche?q=%E6%97%A5%E6%9C%AC'],
      ['https://shop.example/preis-€', 'https://shop.example/preis-%E2%82%AC'],
      ['https://shop.example/bücher#über', 'https://shop.example/b%C3%BCcher#%C3%BCber'],
      ['https://bücher.example/a b', 'https://xn--bcher-kva.example/a%20b'],
    ];
    for (const [href, url] of cases) {
      const out = injectTracking(`<a href="${href}">x</a>`, id, options);
      const token = verifyLinkToken(options.secret, tokenIn(/href="([^"]+)"/.exec(out)![1]!, 'c'));
      assert.equal(token?.kind === 'click' ? token.url : null, url, href);
    }
  });

  it('leaves mailto:, tel:, anchors and relative links alone', () => {
    const html = '<a href="mailto:x@example.com">m</a><a href="tel:+1555">t</a><a href="#top">a</a><a href="/path">r</a>';
    const out = injectTracking(html, id, options);
    assert.equal(out.slice(0, html.length), html);
  });

  it('puts a 1x1 pixel just before </body>, or at the end without one', () => {
    const withBody = injectTracking('<html><body><p>x</p></body></html>', id, options);
    assert.match(withBody, /<img src="https:\/\/herald\.example\.com\/t\/o\/[^"]+" width="1" height="1"[^>]*\/><\/body><\/html>$/);
    const src = /<img src="([^"]+)"/.exec(withBody)![1]!;
    assert.deepEqual(verifyLinkToken(options.secret, tokenIn(src, 'o')), { kind: 'open', notificationId: id });
    assert.match(injectTracking('<p>fragment</p>', id, options), /^<p>fragment<\/p><img /);
  });

  it('leaves text-only email unchanged', () => {
    const content = { subject: 's', text: 'see https://example.com' };
    assert.deepEqual(withEmailTracking(content, id, options), { content });
  });
});

describe('tracked email with substitutions', () => {
  const content = { subject: 'News', text: 'Read https://example.com/a', html: '<body><a href="https://example.com/a">A</a><a href="https://example.com/b">B</a><a href="https://example.com/a">A again</a></body>' };
  const other = '0190a0b0-0000-7000-8000-000000000002';

  it('gives every notification of the same content the same tagged HTML, one tag per distinct link', () => {
    const [first, second] = [withEmailTracking(content, id, options), withEmailTracking(content, other, options)];
    assert.deepEqual(first.content, second.content);
    assert.equal(first.content.html, '<body><a href="[[herald:c0]]">A</a><a href="[[herald:c1]]">B</a><a href="[[herald:c0]]">A again</a><img src="[[herald:o]]" width="1" height="1" alt="" style="display:none;border:0" /></body>');
    assert.deepEqual(Object.keys(first.substitutions ?? {}).sort(), ['[[herald:c0]]', '[[herald:c1]]', '[[herald:o]]']);
    assert.notDeepEqual(first.substitutions, second.substitutions);
  });

  it('substitutes to exactly the HTML with the signed URLs written in', () => {
    const tracked = withEmailTracking(content, id, options);
    assert.deepEqual(substitute(tracked.content, tracked.substitutions), { ...content, html: injectTracking(content.html, id, options) });
    const pixel = tracked.substitutions?.['[[herald:o]]'] ?? '';
    assert.deepEqual(verifyLinkToken(options.secret, tokenIn(pixel, 'o')), { kind: 'open', notificationId: id });
    const link = verifyLinkToken(options.secret, tokenIn(tracked.substitutions?.['[[herald:c1]]'] ?? '', 'c'));
    assert.deepEqual(link, { kind: 'click', notificationId: id, url: 'https://example.com/b' });
  });

  for (const [part, holding] of [
    ['html', { ...content, html: `<p>Write [[herald:o]] or [[HERALD:c0]]</p>${content.html}` }],
    ['text', { ...content, text: 'the tag is [[herald:c0]]' }],
    ['subject', { ...content, subject: '[[Herald: news]]' }],
  ] as const) {
    it(`writes the URLs in, without substitutions, when the ${part} already holds tag text`, () => {
      const tracked = withEmailTracking(holding, id, options);
      assert.equal(tracked.substitutions, undefined);
      assert.deepEqual(tracked.content, { ...holding, html: injectTracking(holding.html, id, options) });
    });
  }

  it('substitutes in one pass, taking values literally', () => {
    const out = substitute({ subject: '[[a]]', text: '[[a]][[b]]', html: '<p>[[b]]</p>' }, { '[[a]]': '[[b]]', '[[b]]': '$&$1' });
    assert.deepEqual(out, { subject: '[[b]]', text: '[[b]]$&$1', html: '<p>$&$1</p>' });
    assert.deepEqual(substitute({ subject: 's' }, undefined), { subject: 's' });
  });
});
