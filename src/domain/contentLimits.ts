/**
 * What the providers refuse, checked before a notification is accepted (inline content in its
 * schema, a template's once rendered) rather than found as a dead letter after the 202.
 * Push: a payload over 4,096 bytes (APNs' and FCM's limit), and data keys the providers keep for
 * themselves (FCM: `from`, `message_type`, `collapse_key` and anything starting with `google` or
 * `gcm`; APNs: `aps`, which the SDK would overwrite). SMS: Twilio's 1,600 characters. Email: a
 * subject of at most 998 characters (RFC 5322's line limit), on one line.
 */
import type { PushContent } from '../ports/deliveryProvider.ts';
import { smsCharacters, smsLength } from './smsLength.ts';

/** Twilio's limit on a message's body, in characters as it counts them (smsLength.ts): not a number of segments. */
export const SMS_BODY_MAX_CHARS = 1600;

/**
 * Null when Twilio takes the body's length, else why not, with the segments it would have been
 * billed as. Counted as Twilio counts: in GSM-7 an extension character (€ [ ] { } ~ ^ | \) is two,
 * in UCS-2 an emoji is two (before 2026-11-29 every character but an emoji counted one).
 */
export function smsBodyLengthProblem(body: string): string | null {
  if (body.length > SMS_BODY_MAX_CHARS) return `it is ${body.length} characters, over the ${SMS_BODY_MAX_CHARS} Twilio takes`;
  const { characters } = smsCharacters(body);
  if (characters <= SMS_BODY_MAX_CHARS) return null;
  const { encoding, segments } = smsLength(body);
  return `it is ${characters} characters as Twilio counts them (${encoding}, where each of € [ ] { } ~ ^ | \\ counts two: ${segments} segments), over the ${SMS_BODY_MAX_CHARS} Twilio takes`;
}
export const EMAIL_SUBJECT_MAX_CHARS = 998;

/**
 * A subject is a mail header: one line, no control characters (RFC 5322 allows neither). A line
 * break in one (a pasted title, a parameter holding a street address) reached SendGrid as it was
 * (2026-11-28): a header the provider has to refuse, or fold into something nobody wrote.
 */
export function isHeaderText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return false;
  }
  return true;
}
export const HEADER_TEXT_RULE = 'one line: no line breaks or other control characters (a mail header); a tab is allowed';

export const PUSH_PAYLOAD_LIMIT_BYTES = 4096;

/** A sound file's name in the app (or "default"). */
export const SOUND_NAME = /^[A-Za-z0-9._-]{1,128}$/;
/** APNs takes an apns-collapse-id of at most 64 bytes: visible ASCII keeps bytes and characters equal. */
export const COLLAPSE_KEY = /^[\x21-\x7e]{1,64}$/;
export const COLLAPSE_KEY_RULE = '1-64 visible ASCII characters (APNs takes at most 64 bytes)';
export const BADGE_MAX = 99_999;

/** A web push's click link: FCM takes only HTTPS. */
export function isPushLink(url: string): boolean {
  if (url.length > 2048) return false;
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}
export const PUSH_LINK_RULE = 'an absolute https:// URL of at most 2,048 characters (FCM opens only HTTPS)';

const RESERVED_KEY = /^(?:aps|from|message_type|collapse_key)$|^(?:google|gcm)/i;

export function isReservedDataKey(key: string): boolean {
  return RESERVED_KEY.test(key);
}

/** The payload's size as APNs receives it ({"aps":{"alert":{…},"sound":…,"badge":…}, …data}); FCM's envelope of the same content is no larger. */
export function pushPayloadBytes(content: PushContent): number {
  if (content.silent) return new TextEncoder().encode(JSON.stringify({ aps: { 'content-available': 1 }, ...content.data })).length;
  const { title, body, data, badge } = content;
  const sound = content.sound === undefined ? 'default' : content.sound;
  return new TextEncoder().encode(JSON.stringify({ aps: { alert: { title, body }, ...(sound === null ? {} : { sound }), ...(badge === undefined ? {} : { badge }) }, ...data })).length;
}

/** Null when the push fits, else why it does not. */
export function pushPayloadProblem(content: PushContent): string | null {
  const bytes = pushPayloadBytes(content);
  return bytes > PUSH_PAYLOAD_LIMIT_BYTES ? `the push payload (title, body, data, sound and badge) is ${bytes} bytes as JSON, over the ${PUSH_PAYLOAD_LIMIT_BYTES} bytes APNs and FCM take; shorten it or send a link in data` : null;
}
