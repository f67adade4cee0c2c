import type { DeliveryMessage, DeliveryResult } from '../ports/deliveryProvider.ts';
import type { DeliveryOutcome, Rejection, Unsent } from '../domain/notification.ts';
import type { UserCommand } from '../domain/user.ts';
import { optOutReasonOfRefusal } from '../domain/contactOptOut.ts';
import { addressDigest, maskAddress } from '../mask.ts';

/**
 * One notification's results on one route, folded into one outcome: sent when any recipient
 * accepted it; otherwise a transient failure when any call may succeed later; otherwise permanent.
 * Sent to some of a user's devices while others failed for a passing reason: it is sent, and the
 * others are recorded as `unsent`, masked, with their token's digest: they alone are tried again
 * (deliveryPlan.ts), since repeating the whole route would push the devices that have it again.
 */
export function outcomeOf(provider: string, messages: readonly DeliveryMessage[], results: readonly DeliveryResult[]): DeliveryOutcome {
  const deliveries: { to: string; providerMessageId: string }[] = [];
  const rejected: Rejection[] = [];
  const unsent: Unsent[] = [];
  let transient: Extract<DeliveryResult, { status: 'failed' }> | undefined;
  messages.forEach((m, i) => {
    const r = results[i] ?? { status: 'failed', reason: 'no_result_from_provider' };
    if (r.status === 'sent') deliveries.push({ to: maskAddress(m.to), providerMessageId: r.providerMessageId });
    else if (r.status === 'rejected') rejected.push({ to: maskAddress(m.to), reason: r.reason });
    else {
      transient ??= r;
      unsent.push({ to: maskAddress(m.to), reason: r.reason, tokenDigest: addressDigest(m.to) });
    }
  });
  if (deliveries.length > 0) return { kind: 'sent', provider, deliveries, rejected, ...(unsent.length > 0 ? { unsent } : {}) };
  if (transient) return { kind: 'failed', provider, reason: transient.reason, permanent: false, rejected, unsent };
  return { kind: 'failed', provider, reason: rejected[0]?.reason ?? 'no_address', permanent: true, rejected };
}

/**
 * What a provider's permanent refusals say about the user's addresses, as commands on the user's
 * stream: a device token that can never work again is invalidated; a phone number or email
 * address the provider refuses as invalid (Twilio 21211, 21614; SendGrid's invalid address), or a
 * number whose owner opted out at the carrier (Twilio 21610), is opted out, so later notifications
 * end suppressed (no_address) instead of paying for the same refusal again, until the user gives
 * another address.
 */
export function addressCommands(job: { userId: string; notificationId: string }, provider: string, messages: readonly DeliveryMessage[], results: readonly DeliveryResult[]): UserCommand[] {
  const { userId, notificationId } = job;
  return messages.flatMap((m, i): UserCommand[] => {
    const r = results[i];
    if (r?.status !== 'rejected') return [];
    if ((m.route === 'apns' || m.route === 'fcm') && (r.reason === 'unregistered_token' || r.reason === 'invalid_token')) {
      return [{ type: 'InvalidateDeviceToken', data: { userId, token: m.to, reason: r.reason, notificationId } }];
    }
    const channel = m.route === 'sms' || m.route === 'email' ? m.route : undefined;
    const reason = channel && optOutReasonOfRefusal(channel, r.reason);
    return channel && reason ? [{ type: 'OptOutContact', data: { userId, channel, address: m.to, reason, source: provider, notificationId } }] : [];
  });
}
