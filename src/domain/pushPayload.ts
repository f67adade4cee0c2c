/**
 * What APNs and FCM refuse in a push, checked before a notification is accepted rather than
 * found as a dead letter after the 202: a payload over 4,096 bytes (both providers' limit), and
 * data keys the providers keep for themselves (FCM: `from`, `message_type`, `collapse_key` and
 * anything starting with `google` or `gcm`; APNs: `aps`, which the SDK would overwrite).
 */
import type { PushContent } from '../ports/deliveryProvider.ts';

export const PUSH_PAYLOAD_LIMIT_BYTES = 4096;

const RESERVED_KEY = /^(?:aps|from|message_type|collapse_key)$|^(?:google|gcm)/i;

export function isReservedDataKey(key: string): boolean {
  return RESERVED_KEY.test(key);
}

/** The payload's size as APNs receives it ({"aps":{"alert":{…}}, …data}); FCM's envelope of the same content is no larger. */
export function pushPayloadBytes(content: PushContent): number {
  const { title, body, data } = content;
  return new TextEncoder().encode(JSON.stringify({ aps: { alert: { title, body } }, ...data })).length;
}

/** Null when the push fits, else why it does not. */
export function pushPayloadProblem(content: PushContent): string | null {
  const bytes = pushPayloadBytes(content);
  return bytes > PUSH_PAYLOAD_LIMIT_BYTES ? `the push payload (title, body and data) is ${bytes} bytes as JSON, over the ${PUSH_PAYLOAD_LIMIT_BYTES} bytes APNs and FCM take; shorten it or send a link in data` : null;
}
