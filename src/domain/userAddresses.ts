/** Where a user can be reached right now: the routes a channel reaches and each route's addresses. Pure. */
import type { Channel, Route } from './channels.ts';
import { routeOfPlatform } from './channels.ts';
import { isOptedOut } from './contactOptOut.ts';
import { exhaustive } from './exhaustive.ts';
import type { UserState } from './user.ts';

/** The routes a channel reaches for this user right now; empty when the user has no address for it. */
export function routesFor(state: UserState, channel: Channel): Route[] {
  switch (channel) {
    case 'push':
      return [...new Set(state.devices.filter((d) => d.active).map((d) => routeOfPlatform(d.platform)))].sort();
    case 'sms':
      return addressesFor(state, 'sms').length > 0 ? ['sms'] : [];
    case 'email':
      return addressesFor(state, 'email').length > 0 ? ['email'] : [];
    default:
      return exhaustive(channel);
  }
}

/** The addresses a route delivers to for this user. */
export function addressesFor(state: UserState, route: Route): string[] {
  // An opted-out address is as good as none: a later send ends suppressed (no_address).
  if (route === 'sms') return state.profile.phone && !isOptedOut(state.optedOut, 'sms', state.profile.phone) ? [state.profile.phone] : [];
  if (route === 'email') return state.profile.email && !isOptedOut(state.optedOut, 'email', state.profile.email) ? [state.profile.email] : [];
  return state.devices.filter((d) => d.active && routeOfPlatform(d.platform) === route).map((d) => d.token);
}
