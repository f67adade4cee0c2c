import type { DeliveryMessage, DeliveryResult } from '../ports/deliveryProvider.ts';
import type { DeliveryOutcome, Rejection } from '../domain/notification.ts';
import { maskAddress } from '../mask.ts';

/**
 * One notification's results on one route, folded into one outcome: sent when any recipient
 * accepted it; otherwise a transient failure when any call may succeed later; otherwise permanent.
 */
export function outcomeOf(provider: string, messages: readonly DeliveryMessage[], results: readonly DeliveryResult[]): DeliveryOutcome {
  const deliveries: { to: string; providerMessageId: string }[] = [];
  const rejected: Rejection[] = [];
  let transient: Extract<DeliveryResult, { status: 'failed' }> | undefined;
  messages.forEach((m, i) => {
    const r = results[i] ?? { status: 'failed', reason: 'no_result_from_provider' };
    if (r.status === 'sent') deliveries.push({ to: maskAddress(m.to), providerMessageId: r.providerMessageId });
    else if (r.status === 'rejected') rejected.push({ to: maskAddress(m.to), reason: r.reason });
    else transient ??= r;
  });
  if (deliveries.length > 0) return { kind: 'sent', provider, deliveries, rejected };
  if (transient) return { kind: 'failed', provider, reason: transient.reason, permanent: false, rejected };
  return { kind: 'failed', provider, reason: rejected[0]?.reason ?? 'no_address', permanent: true, rejected };
}

/** Device tokens the provider says can never work again: they are invalidated on the user's stream. */
export function deadTokens(messages: readonly DeliveryMessage[], results: readonly DeliveryResult[]): { token: string; reason: string }[] {
  return messages.flatMap((m, i) => {
    const r = results[i];
    const isPush = m.route === 'apns' || m.route === 'fcm';
    return isPush && r?.status === 'rejected' && (r.reason === 'unregistered_token' || r.reason === 'invalid_token') ? [{ token: m.to, reason: r.reason }] : [];
  });
}
