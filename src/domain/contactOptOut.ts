/**
 * Address-level opt-outs that come from the outside world rather than from the user's settings:
 * a hard bounce or spam report opts an email address out, a STOP reply opts a phone number out.
 * They are facts about one address, so a user who later gives a new address is reachable again.
 * Pure; folded into the user aggregate (user.ts). The address is kept in full on the user's own
 * stream, which already holds it in UserProfileUpdated; it is needed to compare with the profile.
 */

export type OptOutChannel = 'email' | 'sms';
export type OptOutReason = 'hard_bounce' | 'spam_report' | 'unsubscribed' | 'stop_reply' | 'carrier_opt_out' | 'invalid_address';

export interface OptOut {
  channel: OptOutChannel;
  address: string;
  reason: OptOutReason;
}

/**
 * Reasons an operator may clear (a mailbox fixed after hard bounces; an address a provider
 * misjudged). The others are the recipient's own word (STOP, a spam report, an unsubscribe, the
 * carrier's opt-out), which only the recipient can take back: a START reply, or a new address.
 */
export const OPERATOR_CLEARABLE: readonly OptOutReason[] = ['hard_bounce', 'invalid_address'];

interface OptOutData {
  userId: string;
  channel: OptOutChannel;
  address: string;
  reason: OptOutReason;
  /** Which provider or source reported it: 'sendgrid', 'twilio', … */
  source: string;
  notificationId?: string;
}

export type ContactOptedOutEvent = { type: 'ContactOptedOut'; data: OptOutData & { at: string } };
export type OptOutContactCommand = { type: 'OptOutContact'; data: OptOutData };

/**
 * Why an address is reachable again: the recipient texted START (or YES, UNSTOP), which also lifts
 * the carrier's block; or an operator cleared a bounce or an invalid address (OPERATOR_CLEARABLE).
 */
export type OptInReason = 'start_reply' | 'cleared_by_operator';
interface OptInData {
  userId: string;
  channel: OptOutChannel;
  address: string;
  reason: OptInReason;
  source: string;
}
export type ContactOptedInEvent = { type: 'ContactOptedIn'; data: OptInData & { at: string } };
export type OptInContactCommand = { type: 'OptInContact'; data: OptInData };

/**
 * What a provider's permanent refusal of an address (a `rejected` delivery result's reason) says
 * about it: an invalid address, or a number whose owner opted out at the carrier. Other refusals
 * (blocked routes, bad content) are about the message or the sender, not the address. One rule for
 * refusals at send time and for those a provider reports later (a Twilio status callback).
 */
export function optOutReasonOfRefusal(channel: OptOutChannel, refusal: string): OptOutReason | undefined {
  if (refusal === 'invalid_address') return 'invalid_address';
  return channel === 'sms' && refusal === 'unsubscribed' ? 'carrier_opt_out' : undefined;
}

/** Email addresses compare case-insensitively (in practice); phone numbers are E.164 already. */
const normal = (channel: OptOutChannel, address: string) => (channel === 'email' ? address.trim().toLowerCase() : address.trim());

/** Whether `address` is `current` (the user's address on that channel now), compared as opt-outs compare. */
export function isSameAddress(channel: OptOutChannel, current: string | null | undefined, address: string): boolean {
  return !!current && normal(channel, current) === normal(channel, address);
}

export function isOptedOut(optedOut: readonly OptOut[], channel: OptOutChannel, address: string | null | undefined): boolean {
  if (!address) return false;
  const wanted = normal(channel, address);
  return optedOut.some((o) => o.channel === channel && o.address === wanted);
}

export function evolveOptOuts(optedOut: readonly OptOut[], event: ContactOptedOutEvent | ContactOptedInEvent): OptOut[] {
  const { channel, address } = event.data;
  if (event.type === 'ContactOptedIn') return optedOut.filter((o) => !(o.channel === channel && o.address === normal(channel, address)));
  return isOptedOut(optedOut, channel, address) ? [...optedOut] : [...optedOut, { channel, address: normal(channel, address), reason: event.data.reason }];
}

export class OptOutNotClearableError extends Error {
  constructor(readonly reason: OptOutReason) {
    super(`the address was opted out by its owner (${reason}); only they can undo it`);
  }
}

/**
 * Only an address that is opted out can opt back in; a second START adds nothing. An operator may
 * clear only what OPERATOR_CLEARABLE names (throws OptOutNotClearableError for the rest).
 */
export function decideOptIn(optedOut: readonly OptOut[], command: OptInContactCommand, now: string): ContactOptedInEvent[] {
  const { channel, address } = command.data;
  const current = optedOut.find((o) => o.channel === channel && o.address === normal(channel, address));
  if (!current) return [];
  if (command.data.reason === 'cleared_by_operator' && !OPERATOR_CLEARABLE.includes(current.reason)) throw new OptOutNotClearableError(current.reason);
  return [{ type: 'ContactOptedIn', data: { ...command.data, at: now } }];
}

/** Idempotent: the same address opted out twice (a redelivered webhook, a second STOP) adds nothing. */
export function decideOptOut(optedOut: readonly OptOut[], command: OptOutContactCommand, now: string): ContactOptedOutEvent[] {
  const { channel, address } = command.data;
  return isOptedOut(optedOut, channel, address) ? [] : [{ type: 'ContactOptedOut', data: { ...command.data, at: now } }];
}
