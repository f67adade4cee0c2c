/**
 * Signed tokens for the email open pixel, click-redirect links and one-click unsubscribe links
 * (List-Unsubscribe, listUnsubscribe.ts). A token carries what it
 * stands for (pixel, link or unsubscribe, the notification id and, for a link, the original URL) in the
 * clear, base64url-encoded, plus an HMAC-SHA256 of it under the server's tracking secret. Without
 * the secret nobody can make a token for another notification or another URL, so the redirect
 * is never an open redirect and ids cannot be enumerated.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type LinkToken = { kind: 'open'; notificationId: string } | { kind: 'unsubscribe'; notificationId: string } | { kind: 'click'; notificationId: string; url: string };

/** Versioned so a future format change can live next to links already sitting in inboxes. */
const CONTEXT = 'herald-link-v1.';
const KIND_CODE = { open: 'o', click: 'c', unsubscribe: 'u' } as const;

const mac = (secret: Buffer, body: string) => createHmac('sha256', secret).update(CONTEXT + body).digest();

/**
 * `url` as a browser follows it (the WHATWG URL parser's serialisation: non-ASCII characters
 * percent-encoded as UTF-8, the host in punycode), or undefined when it is not an absolute
 * http(s) URL: only those are redirect targets, anything else is left alone or refused. The
 * serialisation is ASCII, so it fits a Location header as it is; Node refuses a header holding a
 * character beyond Latin-1 and writes a Latin-1 one as a raw byte that clients read differently.
 */
export function trackableUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

export function signLinkToken(secret: Buffer, token: LinkToken): string {
  const parts = token.kind === 'click' ? [KIND_CODE.click, token.notificationId, token.url] : [KIND_CODE[token.kind], token.notificationId];
  const body = Buffer.from(parts.join('|'), 'utf8').toString('base64url');
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

/** The token's content when its MAC is right and its content well-formed; null otherwise. */
export function verifyLinkToken(secret: Buffer, token: string): LinkToken | null {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.length > 8192) return null;
  const body = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = mac(secret, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  // base64url's last character has spare bits; only the canonical spelling counts, so a link has one form.
  if (given.toString('base64url') !== token.slice(dot + 1)) return null;
  const text = Buffer.from(body, 'base64url').toString('utf8');
  const [kind, notificationId, ...rest] = text.split('|');
  if (!notificationId) return null;
  if (kind === KIND_CODE.open && rest.length === 0) return { kind: 'open', notificationId };
  if (kind === KIND_CODE.unsubscribe && rest.length === 0) return { kind: 'unsubscribe', notificationId };
  // The URL itself may contain '|'; everything after the id is the URL.
  const url = rest.join('|');
  if (kind === KIND_CODE.click && trackableUrl(url) !== undefined) return { kind: 'click', notificationId, url };
  return null;
}
