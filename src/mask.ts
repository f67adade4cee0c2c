/**
 * Masking of contact details for logs and error bodies. Enough is kept to tell two values apart
 * while debugging, never enough to contact the person or reuse a device token.
 */
import { createHash } from 'node:crypto';

export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return maskSecret(email);
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot >= 0 ? domain.slice(dot) : '';
  return `${local[0] ?? ''}***@${domain[0] ?? ''}***${tld}`;
}

export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 6) return '***';
  return `${phone.startsWith('+') ? '+' : ''}${digits.slice(0, 2)}******${digits.slice(-2)}`;
}

/** Device tokens, API keys and other secrets: a short prefix only. */
export function maskSecret(value: string): string {
  if (value.length <= 8) return '***';
  return `${value.slice(0, 4)}…(${value.length})`;
}

/**
 * SHA-256 (hex) of an address: recognises a device token again (a device's stream is named by
 * it) without being one. Recorded where the token itself must not be.
 */
export function addressDigest(to: string): string {
  return createHash('sha256').update(to).digest('hex');
}

/** Masks whatever kind of address `to` is. */
export function maskAddress(to: string): string {
  if (to.includes('@')) return maskEmail(to);
  if (/^\+?[\d\s().-]{6,}$/.test(to)) return maskPhone(to);
  return maskSecret(to);
}

/** A phone number by its shape: 7 to 15 digits (E.164 has at most 15), an optional +, separators. */
function looksLikePhone(value: string): boolean {
  if (!/^\+?[\d\s().-]+$/.test(value)) return false;
  const digits = value.replace(/\D/g, '').length;
  return digits >= 7 && digits <= 15;
}

/** `value` masked when it is a contact detail (an email address, a phone number), else as given. */
export function maskIfContact(value: string): string {
  return value.includes('@') || looksLikePhone(value) ? maskAddress(value) : value;
}

/**
 * A request URL as it may appear in a log line or an error body: device tokens (all after …/devices/),
 * tracking link tokens (/t/:kind/:token) and segments that are contact details (a user id such as …/users/ada@example.com) are masked,
 * and only the query's parameter names are kept. An id made of digits alone (more than 15) is not taken for a phone.
 */
export function maskedUrl(url: string): string {
  const [path = '', query] = url.split('?', 2);
  return `${maskedPath(path)}${query === undefined ? '' : `?${maskedQuery(query)}`}`;
}

/**
 * A link someone clicked (a provider's click event) as it may be stored or logged: its scheme and
 * host, and its path, query and fragment as maskedUrl shows a request URL (contact details and
 * tracking tokens in the path masked, only the query's parameter names), so it still says which
 * link it was. Credentials before the host and the fragment, where sign-in links put tokens, are
 * dropped. A value that is not an absolute URL is masked as a path.
 */
export function maskedLink(url: string): string {
  const hash = url.indexOf('#');
  const [link, fragment] = hash === -1 ? [url, undefined] : [url.slice(0, hash), url.slice(hash + 1)];
  // Credentials end at the authority's last @ (as URL parsers read it: https://a@b.com:pw@host/).
  // A backslash ends the authority too (URL parsers read it as a slash in http(s) URLs).
  const origin = /^([a-z][a-z\d+.-]*:\/\/)(?:[^/?#\\]*@)?([^/?#@\\]*)/i.exec(link);
  const rest = origin ? link.slice(origin[0].length) : link;
  const masked = `${origin ? `${origin[1]}${origin[2]}` : ''}${withoutOpaqueSegments(maskedUrl(rest))}`;
  return fragment === undefined ? masked : `${masked}#…`;
}

/**
 * The path with long opaque segments (16 characters or more that are not a slug: the token of a
 * password-reset or magic sign-in link, a signed id, a UUID) masked; words and slugs
 * (/password/reset/, /blog/2026-11-29-release-notes) are kept.
 */
function withoutOpaqueSegments(pathAndQuery: string): string {
  const at = pathAndQuery.indexOf('?');
  const [path, query] = at === -1 ? [pathAndQuery, ''] : [pathAndQuery.slice(0, at), pathAndQuery.slice(at)];
  return path.split(/(?=[/\\])/).map((part) => {
    const segment = part.replace(/^[/\\]/, '');
    return segment.length >= 16 && !isSlug(segment) ? `${part.slice(0, part.length - segment.length)}${maskSecret(segment)}` : part;
  }).join('') + query;
}

/** Words and numbers joined by - _ . or ~, none longer than 12: what people write in a path, unlike a random token. */
const isSlug = (segment: string) => segment.split(/[-_.~]/).every((word) => word.length <= 12 && /^(?:[a-z]*|\d*)$/i.test(word));

/** A query parameter's name: what a client may name one, and no address or token. */
const PARAMETER_NAME = /^[a-z][\w.[\]-]{0,31}$/i;

/** The parameters' names without their values; what is not a name (?ada@example.com, ?<token>) is dropped whole. */
function maskedQuery(query: string): string {
  return query.split('&').map((pair) => {
    const name = pair.split('=')[0] ?? '';
    return PARAMETER_NAME.test(decoded(name) ?? '') ? `${name}=…` : '…';
  }).join('&');
}

function maskedPath(path: string): string {
  // The path's parts so far, decoded and in lower case, without empty ones: a client that doubles a
  // slash (…/devices//<token>) or encodes one (devices%2F<token>) reaches no route, and its path is
  // logged and echoed all the same.
  const before: string[] = [];
  return path.split('/').map((segment) => {
    const value = decoded(segment);
    let secret = false;
    for (const part of (value ?? segment).toLowerCase().split('/')) {
      if (part === '') continue;
      secret ||= isSecretAfter(before);
      before.push(part);
    }
    if (secret) return maskSecret(value ?? segment);
    if (value === undefined) {
      // A segment that does not decode (a stray %) is shown as sent, unless what its escapes that do
      // decode spell holds a contact detail (ada%40example.com%E0): then that, with the detail masked.
      const readable = decodedWherePossible(segment);
      const masked = maskContactsIn(readable);
      return masked === readable ? segment : masked;
    }
    const masked = maskIfContact(value);
    return masked === value ? segment : masked;
  }).join('/');
}

/**
 * Whether what follows these path parts is a secret, and so anything after one: a device token
 * (…/devices/:token), or the token of a tracking link (/t/o/, /t/c/, /t/u/), which is the
 * unsubscribe credential and, for a click, carries its destination URL (and whatever address it
 * holds) in base64url.
 */
function isSecretAfter(parts: readonly string[]): boolean {
  return parts.includes('devices') || (parts[0] === 't' && parts.length >= 2);
}

/** Free text (a validation message that may echo input, a raw path segment) with anything that looks like an email address or a phone number in it masked. */
export function maskContactsIn(text: string): string {
  // A date (2026-12-01, as in a message's own example) has the shape of a phone number, not its use.
  return text.replace(IN_TEXT, (m) => (m.includes('@') || (looksLikePhone(m) && !/^\d{4}-\d{2}-\d{2}$/.test(m)) ? maskAddress(m) : m));
}

/**
 * What maskContactsIn looks at: an email address (first, so one whose mailbox is a UUID is still
 * one), a UUID (kept: its digit runs, as in …-0536-7051-…, have a phone number's shape), or a run
 * of digits with a phone number's separators (+1 (415) 555-0123, 415.555.0123) that is not part
 * of a word or a longer number.
 */
const IN_TEXT = /[^\s"'/]+@[^\s"'/]+|\b[\da-f]{8}(?:-[\da-f]{4}){3}-[\da-f]{12}\b|(?<![\w+.])\+?\(?\d[\d\s().-]*\d(?!\w)/gi;

/** `text` with each escape that decodes on its own (an ASCII byte, a whole UTF-8 sequence) decoded, the others kept. */
function decodedWherePossible(text: string): string {
  return text.replace(/%[0-7][\da-f]|%[c-f][\da-f](?:%[89ab][\da-f]){1,3}/gi, (escape) => decoded(escape) ?? escape);
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
