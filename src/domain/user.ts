/**
 * The user aggregate: contact details and devices, one stream per user. Pure: decide and evolve.
 * Where a user can be reached (routesFor, addressesFor) is in userAddresses.ts.
 */
import type { Platform } from './channels.ts';
import { exhaustive } from './exhaustive.ts';
import { decidePreferences, defaultPreferences, type PatchPreferencesCommand, type Preferences, type PreferencesUpdatedEvent, type SetPreferencesCommand } from './preferences.ts';
import { decideOptIn, decideOptOut, evolveOptOuts, isSameAddress, type ContactOptedInEvent, type ContactOptedOutEvent, type OptInContactCommand, type OptOut, type OptOutContactCommand } from './contactOptOut.ts';

export const userStream = (userId: string) => `user-${userId}`;

export interface Profile {
  email?: string | null;
  phone?: string | null;
  locale?: string | null;
  timezone?: string | null;
}

export type UserEvent =
  | { type: 'UserProfileUpdated'; data: { userId: string; at: string } & Profile }
  | { type: 'DeviceRegistered'; data: { userId: string; token: string; platform: Platform; appId?: string; at: string } }
  /**
   * `reason` absent: the user's app removed it (logout); `claimed_by_another_user`: registered to
   * another user since (domain/device.ts); `device_limit`: pushed out by a newer registration of
   * a user at the most devices a user may hold (`RegisterDevice.maxDevices`).
   */
  | { type: 'DeviceRemoved'; data: { userId: string; token: string; reason?: DeviceRemovalReason; at: string } }
  | { type: 'DeviceTokenInvalidated'; data: { userId: string; token: string; reason: string; notificationId?: string; at: string } }
  | ContactOptedOutEvent
  | ContactOptedInEvent
  | PreferencesUpdatedEvent;

export type UserCommand =
  | { type: 'UpdateProfile'; data: { userId: string } & Profile }
  | { type: 'RegisterDevice'; data: { userId: string; token: string; platform: Platform; appId?: string }; maxDevices?: number }
  | { type: 'RemoveDevice'; data: { userId: string; token: string; reason?: 'claimed_by_another_user' } }
  | { type: 'InvalidateDeviceToken'; data: { userId: string; token: string; reason: string; notificationId?: string } }
  | OptOutContactCommand
  | OptInContactCommand
  | SetPreferencesCommand
  | PatchPreferencesCommand;

export type DeviceRemovalReason = 'claimed_by_another_user' | 'device_limit';

export interface Device {
  token: string;
  platform: Platform;
  appId?: string;
  active: boolean;
  /** When it was last registered (its last DeviceRegistered): at most DEVICE_REFRESH_DAYS stale while the app registers it. */
  registeredAt: string;
}

/**
 * A device registered again unchanged is recorded again (DeviceRegistered, moving it to the newest
 * place) once its last registration is this many days old: apps register their token on every
 * launch, and the device limit pushes out the longest registered, which should be the one no
 * longer in use, not the phone in use since the first day. A week bounds what this adds to the
 * user's stream to one event per device and week of use; Firebase asks servers to refresh a
 * token's timestamp at least monthly.
 */
export const DEVICE_REFRESH_DAYS = 7;
const DEVICE_REFRESH_MS = DEVICE_REFRESH_DAYS * 24 * 60 * 60 * 1000;

export interface UserState {
  exists: boolean;
  profile: Required<Profile>;
  devices: Device[];
  /** Addresses a bounce, spam report or STOP reply opted out (contactOptOut.ts). */
  optedOut: OptOut[];
  preferences: Preferences;
}

export const initialUserState = (): UserState => ({
  exists: false,
  profile: { email: null, phone: null, locale: null, timezone: null },
  devices: [],
  optedOut: [],
  preferences: defaultPreferences(),
});

export function evolveUser(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserProfileUpdated': {
      const { email, phone, locale, timezone } = event.data;
      const profile = { ...state.profile };
      if (email !== undefined) profile.email = email;
      if (phone !== undefined) profile.phone = phone;
      if (locale !== undefined) profile.locale = locale;
      if (timezone !== undefined) profile.timezone = timezone;
      return { ...state, exists: true, profile };
    }
    case 'DeviceRegistered': {
      const { token, platform, appId, at } = event.data;
      const others = state.devices.filter((d) => d.token !== token);
      return { ...state, exists: true, devices: [...others, { token, platform, ...(appId ? { appId } : {}), active: true, registeredAt: at }] };
    }
    case 'DeviceRemoved':
      return { ...state, devices: state.devices.filter((d) => d.token !== event.data.token) };
    case 'DeviceTokenInvalidated':
      return { ...state, devices: state.devices.map((d) => (d.token === event.data.token ? { ...d, active: false } : d)) };
    case 'ContactOptedOut':
    case 'ContactOptedIn':
      return { ...state, optedOut: evolveOptOuts(state.optedOut, event) };
    case 'PreferencesUpdated':
      return { ...state, exists: true, preferences: event.data.preferences };
    default:
      return exhaustive(event);
  }
}

/**
 * Whether a device the user holds is the one `token` names: FCM tokens are case-sensitive, an
 * APNs token is hex, whose letter case says nothing (the API lower-cases it; older registrations
 * may hold it in capitals).
 */
function sameDevice(device: Device, token: string): boolean {
  return device.token === token || (device.platform === 'ios' && device.token.toLowerCase() === token.toLowerCase());
}

/**
 * The devices a registration pushes out so that the user holds at most `maxDevices` with it: those
 * a provider gave up on (invalidated) first, then the longest registered (`devices` is in the
 * order of their last DeviceRegistered; a registration that changes nothing writes one only when
 * the last is DEVICE_REFRESH_DAYS old). An app that registers a fresh token on every launch and
 * never logs out would otherwise fan every push out to a growing list of dead tokens.
 */
function pushedOut(others: readonly Device[], userId: string, maxDevices: number | undefined, at: string): UserEvent[] {
  const excess = maxDevices === undefined ? 0 : others.length + 1 - maxDevices;
  if (excess <= 0) return [];
  const oldestFirst = [...others.filter((d) => !d.active), ...others.filter((d) => d.active)];
  return oldestFirst.slice(0, excess).map((d) => ({ type: 'DeviceRemoved', data: { userId, token: d.token, reason: 'device_limit', at } }));
}

export function decideUser(command: UserCommand, state: UserState, now: string): UserEvent[] {
  switch (command.type) {
    case 'UpdateProfile': {
      const changed = (Object.keys(command.data) as (keyof Profile | 'userId')[]).some(
        (k) => k !== 'userId' && command.data[k] !== undefined && command.data[k] !== state.profile[k],
      );
      return changed || !state.exists ? [{ type: 'UserProfileUpdated', data: { ...command.data, at: now } }] : [];
    }
    case 'RegisterDevice': {
      const existing = state.devices.find((d) => d.token === command.data.token);
      // An empty app id is none, as evolveUser keeps it: compared as such, or every call would write an event.
      const unchanged = existing?.active === true && existing.platform === command.data.platform && existing.appId === (command.data.appId || undefined);
      if (unchanged && Date.parse(now) - Date.parse(existing.registeredAt) < DEVICE_REFRESH_MS) return [];
      // The same APNs token held in other letter case (registered before tokens were lower-cased)
      // is this device: it is replaced, or the phone would get every push twice.
      const variant = state.devices.find((d) => d.token !== command.data.token && sameDevice(d, command.data.token));
      const replaced: UserEvent[] = variant ? [{ type: 'DeviceRemoved', data: { userId: command.data.userId, token: variant.token, at: now } }] : [];
      const others = state.devices.filter((d) => d.token !== command.data.token && d !== variant);
      return [...replaced, ...pushedOut(others, command.data.userId, command.maxDevices, now), { type: 'DeviceRegistered', data: { ...command.data, at: now } }];
    }
    case 'RemoveDevice': {
      const held = state.devices.find((d) => sameDevice(d, command.data.token));
      return held ? [{ type: 'DeviceRemoved', data: { ...command.data, token: held.token, at: now } }] : [];
    }
    case 'InvalidateDeviceToken': {
      const held = state.devices.find((d) => d.active && sameDevice(d, command.data.token));
      return held ? [{ type: 'DeviceTokenInvalidated', data: { ...command.data, token: held.token, at: now } }] : [];
    }
    case 'OptOutContact': {
      // Only the address the user has now: a refusal, bounce or callback can arrive after the user
      // replaced it, and says nothing about the new one; kept for the old one it would be listed on
      // the user (and suppress it should it come back) on the word of a report about another line.
      const { channel, address } = command.data;
      const current = channel === 'sms' ? state.profile.phone : state.profile.email;
      return state.exists && isSameAddress(channel, current, address) ? decideOptOut(state.optedOut, command, now) : [];
    }
    case 'OptInContact':
      return decideOptIn(state.optedOut, command, now);
    case 'SetPreferences':
    case 'PatchPreferences':
      return decidePreferences(state.preferences, command, now);
    default:
      return exhaustive(command);
  }
}
