/**
 * Each projection's version against the event types it reads. A projection that starts reading a
 * type it skipped before must take a new version (docs/replay.md, "Projection versions"): a build
 * that did not know the type moved its checkpoint past those events, and only a rebuild applies
 * them. This pins the pair, so a change of the types without a new version fails here: bump the
 * version, then write both down below.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { PROJECTIONS } from '../../src/projections/index.ts';

const KNOWN: Record<string, { version: number; eventTypes: string[] }> = {
  notifications: { version: 6, eventTypes: ['DeliveryAttemptFailed', 'DeliveryDue', 'DeliveryHeld', 'DeliveryRedriven', 'MessageUndelivered', 'NotificationBounced', 'NotificationCancelled', 'NotificationClicked', 'NotificationDelivered', 'NotificationFailed', 'NotificationMarkedAsSpam', 'NotificationOpened', 'NotificationRequested', 'NotificationSent', 'NotificationSuppressed', 'NotificationUndelivered', 'NotificationUnsubscribed', 'UnsentDevicesRetried'] },
  contacts: { version: 2, eventTypes: ['DeviceRegistered', 'DeviceRemoved', 'DeviceTokenInvalidated', 'UserProfileUpdated'] },
  schedule: { version: 3, eventTypes: ['DeliveryAttemptFailed', 'DeliveryDue', 'DeliveryHeld', 'DeliveryRedriven', 'MessageUndelivered', 'NotificationCancelled', 'NotificationFailed', 'NotificationRequested', 'NotificationSent', 'NotificationSuppressed', 'UnsentDevicesRetried'] },
  dead_letters: { version: 1, eventTypes: ['DeliveryRedriven', 'NotificationFailed', 'NotificationSent'] },
  provider_messages: { version: 1, eventTypes: ['NotificationSent'] },
  analytics: { version: 1, eventTypes: ['DeliveryRedriven', 'NotificationBounced', 'NotificationCancelled', 'NotificationClicked', 'NotificationDelivered', 'NotificationFailed', 'NotificationMarkedAsSpam', 'NotificationOpened', 'NotificationRequested', 'NotificationSent', 'NotificationSuppressed', 'NotificationUndelivered', 'NotificationUnsubscribed'] },
  preferences: { version: 1, eventTypes: ['PreferencesUpdated'] },
  rate_windows: { version: 1, eventTypes: ['RateSlotReleased', 'RateSlotTaken'] },
  templates: { version: 1, eventTypes: ['TemplateCreated', 'TemplateVersionAdded'] },
  categories: { version: 1, eventTypes: ['CategoryConfigured'] },
};

it('every projection reads the event types its version was written down with', () => {
  const now = Object.fromEntries(PROJECTIONS.map((p) => [p.name, { version: p.version, eventTypes: [...p.eventTypes].sort() }]));
  for (const [name, current] of Object.entries(now)) {
    const known = KNOWN[name];
    if (known && known.version === current.version) assert.deepEqual(current.eventTypes, known.eventTypes, `${name} reads other event types at the same version ${current.version}: give it a new version (and write both down here)`);
  }
  assert.deepEqual(now, KNOWN, 'a new projection or version: write it down here');
});
