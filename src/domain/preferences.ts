/**
 * A user's own choices, folded into the user aggregate: opt-outs per channel, per category and per
 * (category, channel), one switch for all marketing, and quiet hours in the user's time zone.
 * Pure; the policy that applies them to a send lives in sendPolicy.ts.
 */
import type { Channel } from './channels.ts';
import { offsetMinutes } from './timeZones.ts';

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

type Flags = Partial<Record<Channel, boolean | null>>;

/**
 * A change to some of the preferences (JSON merge patch, RFC 7396): what it names is set, null
 * clears a choice back to the default (allowed), and everything else is kept as it is.
 */
export interface PreferencesPatch {
  channels?: Flags;
  categories?: Record<string, boolean | null>;
  categoryChannels?: Record<string, Flags | null>;
  marketing?: boolean;
  quietHours?: QuietHours | null;
}
export type PatchPreferencesCommand = { type: 'PatchPreferences'; data: { userId: string; patch: PreferencesPatch } };

function merged<V, P>(current: Record<string, V>, patch: Record<string, P | null> | undefined, merge: (was: V | undefined, next: P) => V | null): Record<string, V> {
  const out: Record<string, V> = { ...current };
  for (const [key, next] of Object.entries(patch ?? {})) {
    const value = next === null ? null : merge(out[key], next);
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

/** The preferences with the patch applied; a (category, channel) entry left empty goes. */
export function applyPreferencesPatch(current: Preferences, patch: PreferencesPatch): Preferences {
  const set = (_was: boolean | undefined, next: boolean) => next;
  const flags = (was: Partial<Record<Channel, boolean>> | undefined, next: Flags) => {
    const out = merged<boolean, boolean>(was ?? {}, next, set);
    return Object.keys(out).length > 0 ? out : null;
  };
  return {
    channels: merged<boolean, boolean>(current.channels, patch.channels, set),
    categories: merged(current.categories, patch.categories, set),
    categoryChannels: merged(current.categoryChannels, patch.categoryChannels, flags),
    marketing: patch.marketing ?? current.marketing,
    quietHours: patch.quietHours === undefined ? current.quietHours : patch.quietHours,
  };
}

/**
 * Choices a user can hold in `categories`, and again in `categoryChannels`. Every change records
 * the whole preferences, and every send reads them: without a bound, each PATCH naming new
 * categories made the user's stream, and every later change, larger.
 */
export const MAX_CATEGORY_CHOICES = 1000;

export class TooManyCategoryChoicesError extends Error {
  readonly code = 'too_many_category_choices';
  constructor(readonly field: 'categories' | 'categoryChannels', readonly count: number) {
    super(`${field} would hold ${count} categories, more than the ${MAX_CATEGORY_CHOICES} a user can have; clear choices no longer needed (null in a PATCH) first`);
  }
}

/** Refuses preferences over the bound, unless they hold fewer choices than before (a user over it from earlier can still clear). */
function checkBound(current: Preferences, next: Preferences): void {
  for (const field of ['categories', 'categoryChannels'] as const) {
    const count = Object.keys(next[field]).length;
    if (count > MAX_CATEGORY_CHOICES && count > Object.keys(current[field]).length) throw new TooManyCategoryChoicesError(field, count);
  }
}

/** Decided on the current preferences, so two patches that race both apply (the second is decided again). */
export function decidePreferences(current: Preferences, command: SetPreferencesCommand | PatchPreferencesCommand, now: string): PreferencesUpdatedEvent[] {
  const { userId } = command.data;
  const preferences = command.type === 'SetPreferences' ? command.data.preferences : applyPreferencesPatch(current, command.data.patch);
  checkBound(current, preferences);
  return JSON.stringify(current) === JSON.stringify(preferences) ? [] : [{ type: 'PreferencesUpdated', data: { userId, preferences, at: now } }];
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
 * When quiet hours are on at `now`, the instant they end; otherwise null. Minutes from now to
 * the local end time, corrected by the change of the zone's offset in between, so the night the
 * clocks go back a 07:00 end is still 07:00 (not 06:00) and the night they go forward not 08:00.
 * An end time the clocks skip (02:30 the night they go forward) ends them an hour later by the
 * wall clock (03:30): late rather than early.
 */
export function quietHoursEnd(now: Date, timeZone: string | null, quiet: QuietHours | null): Date | null {
  if (!quiet) return null;
  const zone = timeZone ?? 'UTC';
  const local = localMinutes(now, zone);
  const [start, end] = [minutes(quiet.start), minutes(quiet.end)];
  if (start === end) return null;
  const inside = start < end ? local >= start && local < end : local >= start || local < end;
  if (!inside) return null;
  const untilEnd = (end - local + 1440) % 1440;
  const naive = new Date(now.getTime() + untilEnd * 60_000);
  naive.setUTCSeconds(0, 0);
  const corrected = new Date(naive.getTime() - (offsetMinutes(naive, zone) - offsetMinutes(now, zone)) * 60_000);
  // In a skipped hour no instant reads `end`; the later of the two is the first one past it.
  return localMinutes(corrected, zone) === end ? corrected : new Date(Math.max(naive.getTime(), corrected.getTime()));
}
