/**
 * The signed tokens of Herald's public links (/t/…: open pixel, click redirect, unsubscribe) as the
 * routes receive them. Forged, truncated and wrong-kind tokens all look the same from outside: no
 * such link.
 */
import { verifyLinkToken, type LinkToken } from '../tracking/linkToken.ts';
import { Problem } from './problem.ts';

const TOKEN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

/** The token of kind `kind` that `raw` is, or a 404. */
export function linkTokenOf<K extends LinkToken['kind']>(secret: Buffer, raw: string, kind: K): Extract<LinkToken, { kind: K }> {
  const token = TOKEN.test(raw) ? verifyLinkToken(secret, raw) : null;
  if (token?.kind !== kind) throw new Problem(404, 'tracking_link_not_found', 'Not found', 'this tracking link is not valid');
  return token as Extract<LinkToken, { kind: K }>;
}
