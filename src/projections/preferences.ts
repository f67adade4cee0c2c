import type { Recorded } from '../domain/events.ts';
import type { Preferences } from '../domain/preferences.ts';
import type { Projection } from './projection.ts';

export type PreferencesDoc = { [K in keyof Preferences]: Preferences[K] } & { userId: string; marketingUnsubscribed: boolean; updatedAt: string };

/** Each user's preferences, queryable (e.g. how many users unsubscribed from marketing). */
export const preferences: Projection<PreferencesDoc> = {
  name: 'preferences',
  version: 1,
  collection: { name: 'preferences', indexes: ['marketingUnsubscribed'] },
  eventTypes: ['PreferencesUpdated'],
  keyOf: (event) => (event.type === 'PreferencesUpdated' ? event.data.userId : null),
  evolve: (doc: PreferencesDoc | null, event: Recorded) =>
    event.type === 'PreferencesUpdated' ? { userId: event.data.userId, ...event.data.preferences, marketingUnsubscribed: !event.data.preferences.marketing, updatedAt: event.data.at } : doc,
};
