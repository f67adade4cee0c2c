/**
 * Twilio's X-Twilio-Signature: base64 HMAC-SHA1, keyed with the account's auth token, of the full
 * URL Twilio requested followed by every POST parameter as name + value, names sorted (a repeated
 * name contributes each of its values, sorted). Checked by the SDK's validateRequest through the
 * Twilio adapter (the one file that imports the SDK), which tolerates a default port written or
 * left out; what it does not do, dropping basic-auth credentials from the URL, is done here.
 */
import { isTwilioSignature } from '../../adapters/providers/twilio/client.ts';

export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

/** `url` without the `user:password@` before its host (up to the authority's last @, as URL parsers read it). */
const withoutCredentials = (url: string) => url.replace(/^([a-z][a-z\d+.-]*:\/\/)[^/?#\\]*@/i, '$1');

/**
 * Whether `signature` is Twilio's for a request to `url` (the URL Herald was told Twilio calls)
 * with these form fields. Twilio calls a URL with basic-auth credentials in it using them, but
 * signs the URL without them (docs: Secure webhooks), so that is tried first; the URL as given too,
 * as the SDK would check it.
 */
export function verifyTwilioSignature(authToken: string, url: string, params: URLSearchParams, signature: string | undefined): boolean {
  if (!signature) return false;
  const fields: Record<string, string | string[]> = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    fields[name] = values.length === 1 ? values[0]! : values;
  }
  const candidates = new Set([withoutCredentials(url), url]);
  return [...candidates].some((candidate) => isTwilioSignature(authToken, signature, candidate, fields));
}
