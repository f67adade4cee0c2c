import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { injectTracking, withEmailTracking } from '../../src/tracking/emailTracking.ts';
import { verifyLinkToken } from '../../src/tracking/linkToken.ts';

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
    assert.deepEqual(withEmailTracking(content, id, options), content);
  });
});
