import type { Recorded } from '../domain/events.ts';
import type { Platform } from '../domain/channels.ts';
import type { Projection } from './projection.ts';

export type ContactsDoc = {
  userId: string;
  email: string | null;
  /**
   * The email in lower case, for finding the users of an address a provider reports: mail
   * systems treat addresses case-insensitively, and SendGrid reports the address as it sent it.
   */
  emailKey?: string | null;
  phone: string | null;
  locale: string | null;
  timezone: string | null;
  devices: { token: string; platform: Platform; appId?: string; active: boolean; registeredAt: string }[];
  updatedAt: string;
};

const empty = (userId: string, at: string): ContactsDoc => ({ userId, email: null, phone: null, locale: null, timezone: null, devices: [], updatedAt: at });

export function evolveContacts(doc: ContactsDoc | null, event: Recorded): ContactsDoc | null {
  switch (event.type) {
    case 'UserProfileUpdated': {
      const { userId, at, ...profile } = event.data;
      const base = doc ?? empty(userId, at);
      const defined = Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== undefined));
      const next = { ...base, ...defined, updatedAt: at };
      return { ...next, emailKey: next.email?.toLowerCase() ?? null };
    }
    case 'DeviceRegistered': {
      const { userId, token, platform, appId, at } = event.data;
      const base = doc ?? empty(userId, at);
      const devices = base.devices.filter((d) => d.token !== token);
      return { ...base, devices: [...devices, { token, platform, ...(appId ? { appId } : {}), active: true, registeredAt: at }], updatedAt: at };
    }
    case 'DeviceRemoved':
      return doc && { ...doc, devices: doc.devices.filter((d) => d.token !== event.data.token), updatedAt: event.data.at };
    case 'DeviceTokenInvalidated':
      return doc && { ...doc, devices: doc.devices.map((d) => (d.token === event.data.token ? { ...d, active: false } : d)), updatedAt: event.data.at };
    default:
      return doc;
  }
}

export const contacts: Projection<ContactsDoc> = {
  name: 'contacts',
  // v2: emailKey, the address in lower case, indexed instead of the email as given.
  version: 2,
  // Sparse: lookups are by one address, and a user without a phone (or email) need not be indexed under none.
  collection: { name: 'contacts', indexes: [{ fields: ['emailKey'], sparse: true }, { fields: ['phone'], sparse: true }] },
  eventTypes: ['UserProfileUpdated', 'DeviceRegistered', 'DeviceRemoved', 'DeviceTokenInvalidated'],
  keyOf: (event) => ('userId' in event.data ? event.data.userId : null),
  evolve: evolveContacts,
};
