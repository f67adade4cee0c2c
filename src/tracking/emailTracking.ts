/**
 * Open and click tracking for outgoing email HTML, as a pure function: every absolute http(s)
 * `<a href>` is rewritten to a signed redirect (GET /t/c/<token>) and a 1x1 pixel
 * (GET /t/o/<token>) is appended before </body>. Other links (mailto:, tel:, #anchors, relative)
 * stay as they are: there is nothing to redirect to, or the client must handle them itself.
 * The text part is left untouched; plain-text clicks are not tracked.
 */
import type { EmailContent } from '../ports/deliveryProvider.ts';
import { isTrackableUrl, signLinkToken } from './linkToken.ts';

export interface EmailTrackingOptions {
  secret: Buffer;
  /** Where recipients reach Herald, e.g. https://herald.example.com (no trailing slash needed). */
  publicUrl: string;
}

/** `<a` … `href=` with a double-quoted, single-quoted or bare value. */
const ANCHOR_HREF = /(<a\b[^>]*?\bhref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;

/** The few entities that appear in URLs inside attributes; the decoded URL is what gets signed. */
const decodeEntities = (value: string) =>
  value.replace(/&(amp|quot|#39|apos|lt|gt);/g, (_, name: string) => ({ amp: '&', quot: '"', '#39': "'", apos: "'", lt: '<', gt: '>' })[name] ?? '');

const base = (publicUrl: string) => publicUrl.replace(/\/+$/, '');

export function trackingPixelUrl(options: EmailTrackingOptions, notificationId: string): string {
  return `${base(options.publicUrl)}/t/o/${signLinkToken(options.secret, { kind: 'open', notificationId })}`;
}

export function trackedLinkUrl(options: EmailTrackingOptions, notificationId: string, url: string): string {
  return `${base(options.publicUrl)}/t/c/${signLinkToken(options.secret, { kind: 'click', notificationId, url })}`;
}

export function injectTracking(html: string, notificationId: string, options: EmailTrackingOptions): string {
  const rewritten = html.replace(ANCHOR_HREF, (match, prefix: string, dq?: string, sq?: string, bare?: string) => {
    const raw = dq ?? sq ?? bare ?? '';
    const url = decodeEntities(raw.trim());
    if (!isTrackableUrl(url)) return match;
    // base64url tokens need no escaping inside an attribute.
    return `${prefix}"${trackedLinkUrl(options, notificationId, url)}"`;
  });
  const pixel = `<img src="${trackingPixelUrl(options, notificationId)}" width="1" height="1" alt="" style="display:none;border:0" />`;
  const bodyEnd = rewritten.toLowerCase().lastIndexOf('</body');
  return bodyEnd >= 0 ? `${rewritten.slice(0, bodyEnd)}${pixel}${rewritten.slice(bodyEnd)}` : `${rewritten}${pixel}`;
}

/** The email content with tracking added to its HTML part; text-only email is unchanged. */
export function withEmailTracking(content: EmailContent, notificationId: string, options: EmailTrackingOptions): EmailContent {
  return content.html === undefined ? content : { ...content, html: injectTracking(content.html, notificationId, options) };
}
