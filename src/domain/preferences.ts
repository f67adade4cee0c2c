/**
 * A user's own choices, folded into the user aggregate: opt-outs per channel, per category and per
 * (category, channel), one switch for all marketing, and quiet hours in the user's time zone.
 * Pure; the policy that applies them to a send lives in sendPolicy.ts.
 */
import type { Channel } from './channels.ts';

export interface QuietHours {
  /** Local "HH:MM" in the user's time zone; the window may cross midnight (22:00 → 07:00). */
  start: string;
  end: string;
}

export interface Preferences {
  /** false: the user opted out of this channel, for every category. */
  channels: Partial<Record<Channel, boolean>>;
  /** false: the user opted out of this category on every channel. */
  categories: Record<string, boolean>;
  /** false: the user opted out of this category on this channel. */
  categoryChannels: Record<string, Partial<Record<Channel, boolean>>>;
  /** false: unsubscribed from everything marketing, in one step. */
  marketing: boolean;
  quietHours: QuietHours | null;
}

export const defaultPreferences = (): Preferences => ({ channels: {}, categories: {}, categoryChannels: {}, marketing: true, quietHours: null });

export type PreferencesUpdatedEvent = { type: 'PreferencesUpdated'; data: { userId: string; preferences: Preferences; at: string } };
export type SetPreferencesCommand = { type: 'SetPreferences'; data: { userId: string; preferences: Preferences } };

export function decidePreferences(current: Preferences, command: SetPreferencesCommand, now: string): PreferencesUpdatedEvent[] {
  return JSON.stringify(current) === JSON.stringify(command.data.preferences) ? [] : [{ type: 'PreferencesUpdated', data: { ...command.data, at: now } }];
}

const minutes = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** Minutes past local midnight at `now` in `timeZone`. */
function localMinutes(now: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

/**
 * When quiet hours are on at `now`, the instant they end; otherwise null. Computed as minutes
 * from now to the local end time, so on a day the clocks change it can be off by that hour.
 */
export function quietHoursEnd(now: Date, timeZone: string | null, quiet: QuietHours | null): Date | null {
  if (!quiet) return null;
  const local = localMinutes(now, timeZone ?? 'UTC');
  const [start, end] = [minutes(quiet.start), minutes(quiet.end)];
  if (start === end) return null;
  const inside = start < end ? local >= start && local < end : local >= start || local < end;
  if (!inside) return null;
  const untilEnd = (end - local + 1440) % 1440;
  const at = new Date(now.getTime() + untilEnd * 60_000);
  at.setUTCSeconds(0, 0);
  return at;
}
