import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { smsBodyLengthProblem } from '../../src/domain/contentLimits.ts';
import { smsLength, type SmsLength } from '../../src/domain/smsLength.ts';

const a = (n: number) => 'a'.repeat(n);

describe('smsLength: an SMS as Twilio counts and bills it', () => {
  // Each row checked against Twilio's own calculator (sms-segments-calculator 1.3.0), as were
  // 20,000 random mixes of these alphabets.
  const table: [string, string, SmsLength][] = [
    ['one GSM-7 segment, full', a(160), { encoding: 'GSM-7', characters: 160, segments: 1 }],
    ['GSM-7 over one segment: parts of 153', a(161), { encoding: 'GSM-7', characters: 161, segments: 2 }],
    ['two parts of 153, full', a(306), { encoding: 'GSM-7', characters: 306, segments: 2 }],
    ['one more', a(307), { encoding: 'GSM-7', characters: 307, segments: 3 }],
    ['the GSM-7 alphabet beyond ASCII', '@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\r\n', { encoding: 'GSM-7', characters: 44, segments: 1 }],
    ['an extension character counts two', '€'.repeat(80), { encoding: 'GSM-7', characters: 160, segments: 1 }],
    ['... over one segment at 81', '€'.repeat(81), { encoding: 'GSM-7', characters: 162, segments: 2 }],
    ['an escape pair is never split between parts', a(152) + '€' + a(153), { encoding: 'GSM-7', characters: 307, segments: 3 }],
    ['each of the extension table', '\f^{}\\[]~|€', { encoding: 'GSM-7', characters: 20, segments: 1 }],
    ['one character outside GSM-7 makes it all UCS-2 (ç is not Ç)', a(69) + 'ç', { encoding: 'UCS-2', characters: 70, segments: 1 }],
    ['a backtick is outside GSM-7', '`', { encoding: 'UCS-2', characters: 1, segments: 1 }],
    ['smart quotes and dashes are too', 'It’s “done” — ok', { encoding: 'UCS-2', characters: 16, segments: 1 }],
    ['UCS-2 over one segment: parts of 67', 'ç'.repeat(71), { encoding: 'UCS-2', characters: 71, segments: 2 }],
    ['two parts of 67, full', 'ç'.repeat(134), { encoding: 'UCS-2', characters: 134, segments: 2 }],
    ['an emoji counts two', '😀'.repeat(35), { encoding: 'UCS-2', characters: 70, segments: 1 }],
    ['an emoji is never split between parts', a(66) + '😀' + a(10), { encoding: 'UCS-2', characters: 78, segments: 2 }],
    ['nor is an emoji with its modifiers', a(65) + '👨‍👩‍👧' + a(60), { encoding: 'UCS-2', characters: 133, segments: 3 }],
    ['Korean', '안녕하세요', { encoding: 'UCS-2', characters: 5, segments: 1 }],
    ['the most Twilio takes in GSM-7', a(1600), { encoding: 'GSM-7', characters: 1600, segments: 11 }],
  ];
  for (const [what, body, expected] of table) it(what, () => assert.deepEqual(smsLength(body), expected));
});

describe('the SMS body limit: 1,600 characters as Twilio counts them', () => {
  it('takes 1,600 and refuses more, extension characters counting two', () => {
    assert.equal(smsBodyLengthProblem(a(1600)), null);
    assert.equal(smsBodyLengthProblem('😀'.repeat(800)), null);
    assert.equal(smsBodyLengthProblem(a(1601)), 'it is 1601 characters, over the 1600 Twilio takes');
    assert.match(smsBodyLengthProblem(a(1595) + '€'.repeat(5))!, /^it is 1605 characters as Twilio counts them \(GSM-7, where each of € \[ \] \{ \} ~ \^ \| \\ counts two: 11 segments\), over the 1600 Twilio takes$/);
  });
});
