import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TemplateVersion } from '../../src/domain/template.ts';
import { renderTemplate, TemplateRenderError } from '../../src/templates/render.ts';
import { unsafeUrls } from '../../src/templates/unsafeUrls.ts';

const withHtml = (html: string): TemplateVersion => ({ templateId: 'links', version: 1, defaultLocale: 'en', createdAt: '2026-11-01T00:00:00.000Z', locales: { en: { email: { subject: 'Hi', html } } } });
const html = (source: string, params: Record<string, unknown>) => renderTemplate(withHtml(source), 'en', params, ['email']).email?.html;
const refusal = (source: string, params: Record<string, unknown>) => {
  try {
    html(source, params);
  } catch (error) {
    if (error instanceof TemplateRenderError) return error;
    throw error;
  }
  return assert.fail('expected a TemplateRenderError');
};

describe('a parameter that puts a script URL into an email\'s link', () => {
  const cases: [string, string, string][] = [
    ['<a href="{{url}}">Open</a>', 'javascript:alert(document.cookie)', 'javascript:'],
    ['<a href="{{url}}">Open</a>', ' JaVa\tScRiPt:alert(1)', 'javascript:'],
    ["<a class=x href='{{url}}'>Open</a>", 'vbscript:msgbox(1)', 'vbscript:'],
    ['<a href={{url}}>Open</a>', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==', 'data:'],
    ['<img src="{{url}}">', 'data:image/svg+xml;base64,PHN2Zy8+', 'data:'],
    ['<form action="{{url}}"></form>', 'javascript:void(0)', 'javascript:'],
    ['<a href="{{{url}}}">raw</a>', '&#106;avascript:alert(1)', 'javascript:'],
  ];
  for (const [source, url, scheme] of cases) {
    it(`is template_parameter_invalid naming it: ${source} with ${JSON.stringify(url)}`, () => {
      const e = refusal(source, { url });
      assert.deepEqual([e.code, e.field, e.parameter], ['template_parameter_invalid', 'email.html', ['url']]);
      assert.match(e.detail, new RegExp(`^parameter "url" puts a ${scheme} URL`));
    });
  }

  it('names a nested parameter by its path', () => {
    const e = refusal('<p>{{#with order}}<a href="{{link}}">{{id}}</a>{{/with}}</p>', { order: { id: '42', link: 'javascript:alert(1)' }, note: 'data: 5 GB' });
    assert.deepEqual(e.parameter, ['order', 'link']);
  });

  it('takes http(s), mailto:, tel:, relative links, a raster data: image, and such text outside a URL attribute', () => {
    assert.equal(html('<a href="{{url}}">Open</a>', { url: 'https://shop.example/o/42?a=b' }), '<a href="https://shop.example/o/42?a&#x3D;b">Open</a>');
    for (const url of ['mailto:ada@example.com', 'tel:+14155550123', '/orders/42', 'https://example.com/?next=javascript:x']) assert.ok(html('<a href="{{url}}">x</a>', { url }));
    assert.ok(html('<img src="{{qr}}" alt="{{note}}">', { qr: 'data:image/png;base64,iVBORw0KGgo=', note: 'javascript: the language' }));
    assert.equal(html('<p>{{note}}</p>', { note: 'javascript:alert(1)' }), '<p>javascript:alert(1)</p>');
    // The scheme is the template's: the parameter comes after it.
    assert.ok(html('<a href="https://shop.example/?next={{u}}">x</a>', { u: 'javascript:alert(1)' }));
  });

  it('leaves the template\'s own links to its author, but not a parameter\'s beside them', () => {
    const source = '<a href="javascript:void(0)">menu</a><p>{{note}}</p><a href="{{url}}">go</a>';
    assert.ok(html(source, { note: 'javascript:alert(1)', url: 'https://example.com' }));
    assert.deepEqual(refusal(source, { note: 'fine', url: 'javascript:alert(1)' }).parameter, ['url']);
  });
});

describe('unsafeUrls', () => {
  it('reads every URL attribute of every tag as a browser would, references and tabs included', () => {
    assert.deepEqual(unsafeUrls('<a title="x" href="java&#x9;script:1">a</a><img src=&#106;avascript:1><a href="data:text/html,hi" xlink:href="vbscript:1">'), [
      { attribute: 'href', scheme: 'javascript:' },
      { attribute: 'src', scheme: 'javascript:' },
      { attribute: 'href', scheme: 'data:' },
      { attribute: 'xlink:href', scheme: 'vbscript:' },
    ]);
    assert.deepEqual(unsafeUrls('<a href="https://x">javascript:1</a><img src="data:image/gif;base64,R0lG"><a data-href="javascript:1">'), []);
  });
});
