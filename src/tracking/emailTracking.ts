/**
 * Open and click tracking for outgoing email HTML, as a pure function: every absolute http(s)
 * `<a href>` is rewritten to a signed redirect (GET /t/c/<token>) and a 1x1 pixel
 * (GET /t/o/<token>) is appended before </body>. Other links (mailto:, tel:, #anchors, relative)
 * stay as they are: there is nothing to redirect to, or the client must handle them itself.
 * The text part is left untouched; plain-text clicks are not tracked.
 *
 * The signed URLs name the notification, so they would make every email unique and defeat
 * provider batching. `withEmailTracking` therefore puts tags in the HTML (`[[herald:o]]` for the
 * pixel, `[[herald:c0]]`, `[[herald:c1]]`… per distinct link URL) and returns this notification's
 * URLs as substitutions: emails of the same content keep the same content.
 */
import { decodeHTMLAttribute } from 'entities';
import type { EmailContent } from '../ports/deliveryProvider.ts';
import { signLinkToken, trackableUrl } from './linkToken.ts';
import { UNSUBSCRIBE_TAG } from '../domain/unsubscribeTag.ts';

export interface EmailTrackingOptions {
  secret: Buffer;
  /** Where recipients reach Herald, e.g. https://herald.example.com (no trailing slash needed). */
  publicUrl: string;
}

/** What to send: content shared by every email of the same content, plus this one's tag values. */
export interface TrackedEmail {
  content: EmailContent;
  substitutions?: Record<string, string>;
}

/** `<a` … `href=` with a double-quoted, single-quoted or bare value. */
const ANCHOR_HREF = /(<a\b[^>]*?\bhref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;

/** No markup, entity or URL character needs escaping in it, and no real email is likely to hold it. */
const TAG_PREFIX = '[[herald:';
const PIXEL_TAG = `${TAG_PREFIX}o]]`;
const linkTag = (n: number) => `${TAG_PREFIX}c${n}]]`;


const base = (publicUrl: string) => publicUrl.replace(/\/+$/, '');

export function trackingPixelUrl(options: EmailTrackingOptions, notificationId: string): string {
  return `${base(options.publicUrl)}/t/o/${signLinkToken(options.secret, { kind: 'open', notificationId })}`;
}

export function trackedLinkUrl(options: EmailTrackingOptions, notificationId: string, url: string): string {
  return `${base(options.publicUrl)}/t/c/${signLinkToken(options.secret, { kind: 'click', notificationId, url })}`;
}

/** Points each trackable link at `hrefFor(url)` and adds a pixel loading `pixelSrc`. */
function rewrite(html: string, hrefFor: (url: string) => string, pixelSrc: string): string {
  const rewritten = html.replace(ANCHOR_HREF, (match, prefix: string, dq?: string, sq?: string, bare?: string) => {
    const raw = dq ?? sq ?? bare ?? '';
    // The URL a browser would follow, what gets signed and redirected to: character references
    // decoded by the HTML spec's attribute rules (Handlebars writes every = of a {{url}} as &#x3D;),
    // then parsed as a browser does, which percent-encodes what a Location header cannot hold.
    const url = trackableUrl(decodeHTMLAttribute(raw.trim()));
    if (url === undefined) return match;
    // base64url tokens and tags need no escaping inside an attribute.
    return `${prefix}"${hrefFor(url)}"`;
  });
  const pixel = `<img src="${pixelSrc}" width="1" height="1" alt="" style="display:none;border:0" />`;
  const bodyEnd = rewritten.toLowerCase().lastIndexOf('</body');
  return bodyEnd >= 0 ? `${rewritten.slice(0, bodyEnd)}${pixel}${rewritten.slice(bodyEnd)}` : `${rewritten}${pixel}`;
}

/** The HTML with this notification's signed URLs written in: unique to the notification. */
export function injectTracking(html: string, notificationId: string, options: EmailTrackingOptions): string {
  return rewrite(html, (url) => trackedLinkUrl(options, notificationId, url), trackingPixelUrl(options, notificationId));
}

/** SendGrid applies substitutions to subject and text as well, so the tag must be in none of them (but the unsubscribe tag, put there to be replaced). */
function holdsTagText({ subject, text, html }: EmailContent): boolean {
  return [subject, text, html].some((part) => part?.toLowerCase().replaceAll(UNSUBSCRIBE_TAG, '').includes(TAG_PREFIX));
}

/**
 * The email with tracking added to its HTML part: tagged HTML plus this notification's URLs as
 * substitutions. Text-only email is unchanged; an email that already contains tag text gets its
 * URLs written in (unique content, so it is sent on its own) rather than risk replacing the
 * sender's text.
 */
export function withEmailTracking(content: EmailContent, notificationId: string, options: EmailTrackingOptions): TrackedEmail {
  if (content.html === undefined) return { content };
  if (holdsTagText(content)) return { content: { ...content, html: injectTracking(content.html, notificationId, options) } };
  const links = new Map<string, string>();
  const tagFor = (url: string) => {
    const tag = links.get(url) ?? linkTag(links.size);
    links.set(url, tag);
    return tag;
  };
  const html = rewrite(content.html, tagFor, PIXEL_TAG);
  const substitutions: Record<string, string> = { [PIXEL_TAG]: trackingPixelUrl(options, notificationId) };
  for (const [url, tag] of links) substitutions[tag] = trackedLinkUrl(options, notificationId, url);
  return { content: { ...content, html }, substitutions };
}
