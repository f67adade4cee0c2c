/**
 * How long an SMS is the way Twilio counts and bills it. A message whose every character is in the
 * GSM 03.38 alphabet goes as GSM-7: 160 characters in one segment, 153 in each part of a longer
 * one, a character of the extension table (^ { } [ ] ~ | \ € and form feed) taking two. One
 * character outside it sends the whole message as UCS-2: 70 UTF-16 code units in one segment, 67
 * per part, a character beyond the Basic Multilingual Plane (most emoji) taking two. A part never
 * ends inside a character, an escape pair or a grapheme (an emoji with its modifiers), so a long
 * message can need a segment more than its length divided by 153 or 67. As Twilio's own
 * calculator (sms-segments-calculator) counts them.
 */

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsLength {
  encoding: SmsEncoding;
  /** Septets for GSM-7 (an extension character counts two), UTF-16 code units for UCS-2. */
  characters: number;
  /** What Twilio bills: the message's parts. */
  segments: number;
}

const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENSION = new Set('\f^{}\\[]~|€');

const SINGLE = { 'GSM-7': 160, 'UCS-2': 70 } as const;
const PER_PART = { 'GSM-7': 153, 'UCS-2': 67 } as const;

const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });

/** How many parts of `capacity` the units take, filled in order, a unit never split. */
function parts(units: Iterable<number>, capacity: number): number {
  let count = 1;
  let used = 0;
  for (const size of units) {
    if (used > 0 && used + size > capacity) {
      count++;
      used = 0;
    }
    used += size;
  }
  return count;
}

function* gsmUnits(body: string): Iterable<number> {
  for (const c of body) yield GSM_EXTENSION.has(c) ? 2 : 1;
}

function* ucs2Units(body: string): Iterable<number> {
  for (const { segment } of graphemes.segment(body)) {
    // A CR LF is one grapheme, but two characters a part may end between.
    if (segment === '\r\n') {
      yield 1;
      yield 1;
    } else yield segment.length;
  }
}

/** The encoding Twilio sends `body` in and its length in that encoding's characters; what a limit checks, without the segments' cost. */
export function smsCharacters(body: string): Omit<SmsLength, 'segments'> {
  let septets = 0;
  for (const c of body) {
    if (GSM_BASIC.has(c)) septets += 1;
    else if (GSM_EXTENSION.has(c)) septets += 2;
    else return { encoding: 'UCS-2', characters: body.length };
  }
  return { encoding: 'GSM-7', characters: septets };
}

export function smsLength(body: string): SmsLength {
  const { encoding, characters } = smsCharacters(body);
  if (characters <= SINGLE[encoding]) return { encoding, characters, segments: 1 };
  return { encoding, characters, segments: parts(encoding === 'GSM-7' ? gsmUnits(body) : ucs2Units(body), PER_PART[encoding]) };
}
