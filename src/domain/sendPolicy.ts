/**
 * Whether, and when, a notification may go to a user on a channel: the user's preferences applied
 * with the category's policy. Pure; rate limits are the other half (rateWindow.ts).
 */
import type { CategoryPolicy } from './category.ts';
import type { Channel } from './channels.ts';
import type { SuppressReason } from './notificationEvents.ts';
import { quietHoursEnd, type Preferences } from './preferences.ts';

export type ChannelDecision = { kind: 'send' } | { kind: 'suppress'; reason: SuppressReason } | { kind: 'hold'; until: Date; reason: 'quiet_hours' };

/**
 * The earliest time from `at` a notification of this category may go to the user: the end of
 * their quiet hours when `at` falls in them (a rate window's deferral must not land there).
 */
export function notBefore(prefs: Preferences, category: CategoryPolicy, timeZone: string | null, at: number): number {
  if (category.transactional) return at;
  return quietHoursEnd(new Date(at), timeZone, prefs.quietHours)?.getTime() ?? at;
}

export function decideChannel(prefs: Preferences, category: CategoryPolicy, channel: Channel, timeZone: string | null, now: Date): ChannelDecision {
  // A channel opt-out is the user's word about that channel: it binds even transactional sends.
  if (prefs.channels[channel] === false) return { kind: 'suppress', reason: 'channel_opted_out' };
  if (prefs.categoryChannels[category.category]?.[channel] === false) return { kind: 'suppress', reason: 'category_opted_out' };
  if (category.transactional) return { kind: 'send' };
  if (prefs.categories[category.category] === false) return { kind: 'suppress', reason: 'category_opted_out' };
  if (category.marketing && !prefs.marketing) return { kind: 'suppress', reason: 'marketing_unsubscribed' };
  const until = quietHoursEnd(now, timeZone, prefs.quietHours);
  return until ? { kind: 'hold', until, reason: 'quiet_hours' } : { kind: 'send' };
}
