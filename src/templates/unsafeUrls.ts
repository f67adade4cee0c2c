/**
 * URLs in rendered email HTML that run script, or open a document of the sender's making, when
 * followed: a `javascript:` or `vbscript:` URL in any URL attribute, and a `data:` URL anywhere
 * but an image source holding a raster image. Mail clients mostly strip them, but webmail and the
 * browser an email is opened in (its "view online" copy) need not.
 */
import { decodeHTMLAttribute } from 'entities';

/** Attributes a browser reads as a URL to follow or load. */
const URL_ATTRIBUTES = 'href|src|action|formaction|background|poster|cite|longdesc|lowsrc|dynsrc|usemap|xlink:href';
/** Those that only load an image: the one place a `data:` URL is an inline picture. */
const IMAGE_ATTRIBUTES = new Set(['src', 'background', 'poster', 'lowsrc', 'dynsrc']);
/** Raster images only: an SVG is a document that can hold script. */
const DATA_IMAGE = /^data:image\/(?:png|gif|jpe?g|webp|bmp|avif)[;,]/i;

const TAG = /<[a-z][^>]*>/gi;
const ATTRIBUTE = new RegExp(`[\\s"'/](${URL_ATTRIBUTES})\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`, 'gi');

export interface UnsafeUrl {
  attribute: string;
  scheme: 'javascript:' | 'vbscript:' | 'data:';
}

/**
 * The scheme a browser would follow `value` (an attribute's text, character references and all)
 * with, by the WHATWG URL parser: it drops leading and trailing spaces and control characters and
 * every tab and line break, so ` java\tscript:` is `javascript:`. Undefined for a relative URL.
 */
function schemeOf(value: string): string | undefined {
  try {
    return new URL(decodeHTMLAttribute(value)).protocol.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Every unsafe URL attribute of `html`, in order. */
export function unsafeUrls(html: string): UnsafeUrl[] {
  const found: UnsafeUrl[] = [];
  for (const [tag] of html.matchAll(TAG)) {
    for (const [, name, dq, sq, bare] of tag.matchAll(ATTRIBUTE)) {
      const attribute = name!.toLowerCase();
      const value = dq ?? sq ?? bare ?? '';
      const scheme = schemeOf(value);
      if (scheme === 'javascript:' || scheme === 'vbscript:') found.push({ attribute, scheme });
      else if (scheme === 'data:' && !(IMAGE_ATTRIBUTES.has(attribute) && DATA_IMAGE.test(decodeHTMLAttribute(value).replace(/[\t\n\r]/g, '').trim()))) found.push({ attribute, scheme });
    }
  }
  return found;
}
