/**
 * zod schemas of a user's contact details and devices (PUT /v1/users/:userId, POST …/devices):
 * phone numbers read as E.164, email addresses with their domain in ASCII, time zones and APNs
 * tokens as the providers take them.
 */
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { getCountryCallingCode, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

const phone = z.string().min(3).max(32).regex(/^[+\d\s().-]+$/, 'digits, spaces, ( ) . - and an optional leading +');

/** The region of a BCP 47 locale (en-GB → GB), used as the hint for numbers without a country code. */
export function regionOf(locale: string | null | undefined): CountryCode | undefined {
  const region = locale?.split('-').find((part, i) => i > 0 && /^[A-Za-z]{2}$/.test(part));
  return region ? (region.toUpperCase() as CountryCode) : undefined;
}

/** E.164, or null when the number is not valid for the hinted region. */
export function toE164(value: string, locale: string | null | undefined): string | null {
  const parsed = parsePhoneNumberFromString(value, regionOf(locale));
  return parsed?.isValid() ? parsed.number : null;
}

/**
 * A number without + that starts with its region's calling code and is valid read either way
 * ("49 151 23456789" in Germany: +49 151 23456789, or a national +49 4915123456789): the
 * region's calling code, or null when there is one reading.
 * Taking the national one sent SMS to somebody else; the caller refuses and asks for the +.
 */
export function ambiguousPhone(value: string, locale: string | null | undefined): string | null {
  const region = regionOf(locale);
  if (!region || /^\s*(\+|00)/.test(value)) return null;
  const digits = value.replace(/\D/g, '');
  let code: string;
  try {
    code = getCountryCallingCode(region);
  } catch {
    return null;
  }
  if (!digits.startsWith(code)) return null;
  const international = parsePhoneNumberFromString(`+${digits}`);
  const national = parsePhoneNumberFromString(value, region);
  return international?.isValid() && national?.isValid() && international.number !== national.number ? code : null;
}

export const timezone = z.string().max(64).refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone, e.g. Europe/Berlin');

const ascii = /^[\x20-\x7e]*$/;

/** The address with an internationalized domain in its ASCII form (bücher.de → xn--bcher-kva.de), which every mail server takes. */
function withAsciiDomain(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0 || ascii.test(address)) return address;
  const domain = domainToASCII(address.slice(at + 1));
  return domain ? `${address.slice(0, at + 1)}${domain}` : address;
}

/**
 * An email address. A domain in any script is taken and stored in its ASCII form; the mailbox
 * name before the @ must be ASCII, because SendGrid drops mail to any other (RFC 6531 addresses).
 */
/**
 * An address as SendGrid delivers it: RFC 5322's dot-atom mailbox name, and a domain of two labels
 * or more whose last is letters or, for an internationalised one (.рф, .中国), its punycode
 * (xn--p1ai). zod's default pattern wants letters only there, and refused those domains.
 */
const EMAIL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$/;

export const emailAddress = z
  .string()
  .trim()
  .max(254)
  .refine((address) => ascii.test(address.slice(0, Math.max(0, address.lastIndexOf('@')))), 'the part before the @ must be ASCII: SendGrid does not deliver to internationalized mailbox names')
  .transform(withAsciiDomain)
  .pipe(z.email({ pattern: EMAIL }).max(254));

/** A subtag in its BCP 47 case: language lower (en), script title (Hans), region upper (GB), the rest lower. */
function subtagCase(part: string, i: number): string {
  if (i > 0 && part.length === 4 && /^[A-Za-z]+$/.test(part)) return part[0]!.toUpperCase() + part.slice(1).toLowerCase();
  if (i > 0 && part.length === 2) return part.toUpperCase();
  return part.toLowerCase();
}

/**
 * A user's locale as BCP 47 (en-GB). What apps read from the device is taken too: iOS's
 * `Locale.identifier` and Android's `Locale.toString()` give `en_GB`, and case varies (`EN-gb`);
 * both are stored as `en-GB`, so template locales and the phone number's region match.
 */
export const userLocale = z
  .string()
  .max(64)
  .transform((tag) => tag.replaceAll('_', '-').split('-').map(subtagCase).join('-'))
  .refine((tag) => {
    if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(tag)) return false;
    try {
      return Intl.getCanonicalLocales(tag).length === 1;
    } catch {
      return false;
    }
  }, 'a BCP 47 locale, e.g. en-US (en_US is taken as en-US)');

export const profileBody = z.strictObject({
  email: emailAddress.nullable().optional(),
  phone: phone.nullable().optional(),
  locale: userLocale.nullable().optional(),
  timezone: timezone.nullable().optional(),
});

export const platform = z.enum(['ios', 'android', 'web']);
/**
 * An APNs device token as apps pass it on: the token's bytes in hex (32 bytes, 64 characters, today;
 * Apple says the length may grow). The classic mistake is sending `NSData.description` instead,
 * "<a1b2 …>" before iOS 13 and "{length = 32, bytes = 0xa1b2…}" since, which APNs refuses only at
 * the first push (BadDeviceToken), after the 202.
 */
const APNS_TOKEN = /^(?:[0-9a-fA-F]{2}){32,100}$/;

/**
 * An FCM token (Android, web) is opaque (Google asks not to check a pattern) but never holds
 * spaces, line breaks or quotes: those come from the app's side (a trailing newline read from a
 * file, a token JSON-encoded twice), and FCM refuses the token only at the first push.
 */
function fcmTokenProblem(token: string): string | null {
  if (!/^[\x21-\x7e]+$/.test(token)) return 'a device token is visible ASCII: no spaces, line breaks or other characters inside it';
  if (/^["'].*["']$/.test(token)) return 'a device token in quotes was JSON-encoded twice: send the token itself';
  return null;
}

export const deviceBody = z
  .strictObject({
    platform,
    // Whitespace around a token is never part of it (a newline read from a file): dropped.
    token: z.string().trim().min(8).max(4096),
    // An SDK that has no app id may send "": the same as none.
    appId: z.string().trim().max(255).optional().transform((id) => id || undefined),
  })
  .superRefine((device, ctx) => {
    if (device.platform !== 'ios') {
      const problem = fcmTokenProblem(device.token);
      if (problem) ctx.addIssue({ code: 'custom', path: ['token'], message: problem });
      return;
    }
    if (APNS_TOKEN.test(device.token)) return;
    ctx.addIssue({ code: 'custom', path: ['token'], message: 'an iOS (APNs) device token is hex, 64 characters today: the device token\'s bytes as %02x each, not NSData\'s description ("<…>" or "{length = 32, bytes = 0x…}")' });
  })
  // Hex in capitals (%02X) and in small letters is the same device: one spelling, so that it has
  // one owner (src/domain/device.ts keys a device by its token's digest) and one registration.
  .transform((device) => (device.platform === 'ios' ? { ...device, token: device.token.toLowerCase() } : device));

export const device = z.object({
  token: z.string(),
  platform,
  appId: z.string().optional(),
  active: z.boolean(),
  registeredAt: z.string().describe('when the device was last registered: a registration that changes nothing is recorded again once this is 7 days old, so it is at most that stale while the app registers on launch'),
});
export const userResponse = z.object({
  userId: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  locale: z.string().nullable(),
  timezone: z.string().nullable(),
  devices: z.array(device),
  optedOut: z.array(z.object({ channel: z.enum(['email', 'sms']), address: z.string(), reason: z.string() })).describe('addresses a provider or the recipient opted out (a bounce, STOP, a spam report, …): no notification goes to them'),
});
