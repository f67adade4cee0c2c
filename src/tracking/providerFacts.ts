/**
 * Provider webhooks turned into one fixed shape: which notification (by our id or the
 * provider's message id), which tracking fact, and whether it opts an address out. Each
 * provider's raw statuses map onto the same short list here, and nowhere else.
 */
import { z } from 'zod';
import type { TrackingFact } from '../domain/tracking.ts';
import type { OptOutChannel, OptOutReason } from '../domain/contactOptOut.ts';
import { optOutReasonOfRefusal } from '../domain/contactOptOut.ts';
import { twilioCodeResult } from '../adapters/providers/twilio/errors.ts';
import { maskAddress } from '../mask.ts';

export type TrackingProvider = 'sendgrid' | 'twilio';

export interface ProviderFact {
  provider: TrackingProvider;
  notificationId?: string;
  providerMessageId?: string;
  fact: TrackingFact;
  /** The recipient as the provider names it: used to opt it out, stored only masked. */
  to?: string;
  optOut?: { channel: OptOutChannel; reason: OptOutReason };
}

const short = (text: string | undefined, max: number) => (text === undefined ? undefined : text.slice(0, max));
/** SMTP answers quote addresses ("550 <bob@example.com>: no such user"); the log keeps them masked. */
const maskReason = (text: string | undefined) => short(text, 500)?.replace(/[^\s"'<>()]+@[^\s"'<>()]+/g, (m) => maskAddress(m));
const UUID = /^[0-9a-f-]{36}$/;

export const sendgridEvent = z.looseObject({
  event: z.string(),
  email: z.string().optional(),
  sg_event_id: z.string().optional(),
  sg_message_id: z.string().optional(),
  url: z.string().optional(),
  type: z.string().optional(),
  reason: z.string().optional(),
  /** Our custom_args come back as top-level fields. */
  notificationId: z.string().optional(),
});
export const sendgridBatch = z.array(sendgridEvent).max(10_000);
export type SendgridEvent = z.infer<typeof sendgridEvent>;

/**
 * A dropped event's reason when SendGrid dropped the mail for an address on one of its suppression
 * lists, each of which SendGrid drops every later mail to. "Invalid" is its Invalid Emails list
 * (malformed, or no such mailbox at the receiving server). The other reasons are about the message
 * or the account, not the address: "Invalid SMTPAPI header" (the request), "Spam Content",
 * "Recipient List over Package Quota".
 */
const DROPPED_SUPPRESSION: Record<string, OptOutReason> = {
  invalid: 'invalid_address',
  'bounced address': 'hard_bounce',
  'spam reporting address': 'spam_report',
  'unsubscribed address': 'unsubscribed',
};

/** One SendGrid event as a fact, or null for events that are not tracked (processed, deferred, …). */
export function fromSendgrid(e: SendgridEvent): ProviderFact | null {
  const base = { source: 'sendgrid' as const, ...(e.sg_event_id ? { providerEventId: e.sg_event_id } : {}) };
  const fact = ((): { fact: TrackingFact; optOut?: ProviderFact['optOut'] } | null => {
    switch (e.event) {
      case 'delivered':
        return { fact: { ...base, kind: 'delivered' } };
      case 'open':
        return { fact: { ...base, kind: 'opened' } };
      case 'click':
        return { fact: { ...base, kind: 'clicked', ...(e.url ? { url: short(e.url, 2048) } : {}) } };
      case 'bounce':
      case 'blocked': {
        // SendGrid marks temporary refusals as type "blocked"; the address itself may be fine.
        const hard = e.event === 'bounce' && e.type !== 'blocked';
        const reason = maskReason(e.reason);
        return { fact: { ...base, kind: 'bounced', bounce: hard ? 'hard' : 'soft', ...(reason ? { reason } : {}) }, ...(hard ? { optOut: { channel: 'email', reason: 'hard_bounce' } } : {}) };
      }
      case 'dropped': {
        const reason = maskReason(e.reason);
        // SendGrid drops mail to addresses on its own suppression lists: Herald opts them out too,
        // or it would go on sending (and paying for) mail that SendGrid never delivers.
        const suppressed = e.reason ? DROPPED_SUPPRESSION[e.reason.trim().toLowerCase()] : undefined;
        return { fact: { ...base, kind: 'undelivered', ...(reason ? { reason } : {}) }, ...(suppressed ? { optOut: { channel: 'email', reason: suppressed } } : {}) };
      }
      case 'spamreport':
        return { fact: { ...base, kind: 'spam' }, optOut: { channel: 'email', reason: 'spam_report' } };
      case 'unsubscribe':
        return { fact: { ...base, kind: 'unsubscribed' }, optOut: { channel: 'email', reason: 'unsubscribed' } };
      case 'group_unsubscribe':
        // Only one unsubscribe group (a kind of mail), not email as a whole: recorded, no opt-out.
        return { fact: { ...base, kind: 'unsubscribed' } };
      default:
        return null;
    }
  })();
  if (!fact) return null;
  return {
    provider: 'sendgrid',
    ...(e.notificationId && UUID.test(e.notificationId) ? { notificationId: e.notificationId } : {}),
    // sg_message_id is the X-Message-Id of the send request, then ".filter…" per recipient.
    ...(e.sg_message_id ? { providerMessageId: e.sg_message_id.split('.')[0] } : {}),
    ...(e.email ? { to: e.email } : {}),
    ...fact,
  };
}

/**
 * The opt-out a status callback's ErrorCode calls for, read as a refusal of the same code at send
 * time is (the Twilio adapter's table, the domain's rule): 21610 (the recipient texted STOP) opts
 * the number out as carrier_opt_out, 30005 (unknown number) and 30006 (landline) as invalid_address.
 */
function twilioOptOut(errorCode: string | undefined): ProviderFact['optOut'] {
  if (!errorCode || !/^\d{1,6}$/.test(errorCode)) return undefined;
  const result = twilioCodeResult(Number(errorCode));
  const reason = result?.status === 'rejected' ? optOutReasonOfRefusal('sms', result.reason) : undefined;
  return reason ? { channel: 'sms', reason } : undefined;
}

/**
 * Whether an undelivered report's reason may pass, so the message is worth sending again: for
 * Twilio, an ErrorCode the adapter's table reads as a passing failure (30001, 30003, 30008, 30017,
 * 30500). Any other code (30004 blocked, 30007 filtered, 30034 unregistered sender, an unknown
 * one) is only recorded: sending again would pay for the same refusal.
 */
export function passingUndelivered(provider: TrackingProvider, fact: Extract<TrackingFact, { kind: 'undelivered' }>): boolean {
  const code = provider === 'twilio' ? /^twilio_(\d{1,6})$/.exec(fact.reason ?? '')?.[1] : undefined;
  return code !== undefined && twilioCodeResult(Number(code))?.status === 'failed';
}

/** A Twilio status callback as a fact; queued, sending, sent, accepted are progress, not tracked. */
export function fromTwilioStatus(params: URLSearchParams): ProviderFact | null {
  const sid = params.get('MessageSid') ?? params.get('SmsSid');
  const status = params.get('MessageStatus') ?? params.get('SmsStatus');
  if (!sid || !status) return null;
  const base = { source: 'twilio' as const, providerEventId: `${sid}:${status}` };
  const errorCode = params.get('ErrorCode') ?? undefined;
  const to = params.get('To') ?? undefined;
  const common = { provider: 'twilio' as const, providerMessageId: sid, ...(to ? { to } : {}) };
  if (status === 'delivered') return { ...common, fact: { ...base, kind: 'delivered' } };
  if (status === 'undelivered' || status === 'failed') {
    const reason = errorCode ? `twilio_${errorCode}` : status;
    const optOut = twilioOptOut(errorCode);
    return { ...common, fact: { ...base, kind: 'undelivered', reason }, ...(optOut ? { optOut } : {}) };
  }
  return null;
}

/** Twilio's standard opt-out and opt-in keywords (its defaults), matched on the whole trimmed body. */
const STOP_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE']);
const START_WORDS = new Set(['START', 'YES', 'UNSTOP']);

/**
 * What an inbound SMS says about the sender's subscription: 'stop', 'start' (Twilio lifts its own
 * block on START, YES or UNSTOP, and so must Herald, or the number stays unreachable for good),
 * or null. Twilio's Advanced Opt-Out names it in OptOutType (its keywords may be customised);
 * without it the default keywords are matched.
 */
export function inboundKeyword(params: URLSearchParams): 'stop' | 'start' | null {
  const type = params.get('OptOutType')?.toUpperCase();
  if (type === 'STOP' || type === 'START') return type === 'STOP' ? 'stop' : 'start';
  if (type) return null;
  const word = (params.get('Body') ?? '').trim().toUpperCase().replace(/[.!]+$/, '');
  return STOP_WORDS.has(word) ? 'stop' : START_WORDS.has(word) ? 'start' : null;
}
