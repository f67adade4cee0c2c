/**
 * A synthetic but schema-valid Herald log: notifications in interleaved waves (request, retries,
 * dead letters, redrives, sends, tracking), users, apps, keys, categories and templates, with
 * every event type the codec knows. Appended through the EventStore port, one event per append,
 * many appends per group commit, so positions interleave across streams as in production.
 */
import type { EventStore, JsonObject } from '../../src/ports/eventStore.ts';

type Sample = { stream: string; type: string; data: JsonObject };

const BASE = Date.parse('2026-11-01T00:00:00.000Z');
const iso = (ms: number) => new Date(BASE + ms).toISOString();
const hex64 = (n: number) => n.toString(16).padStart(64, '0');
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const CATEGORIES = ['order-updates', 'security', 'marketing', 'reminders'];
const CHANNELS = ['push', 'sms', 'email'] as const;
const ROUTE = { push: 'fcm', sms: 'sms', email: 'email' } as const;

/** One notification's events, in order; `i` picks its fate so every path appears many times. */
function notificationLife(i: number): Sample[] {
  const id = uuid(i);
  const stream = `notification-${id}`;
  const channel = CHANNELS[i % 3]!;
  const route = ROUTE[channel];
  const t0 = (i % 5000) * 37_000 + Math.floor(i / 5000) * 3_600_000;
  const at = (ms: number) => iso(t0 + ms);
  const ev = (type: string, data: JsonObject): Sample => ({ stream, type, data: { notificationId: id, ...data } });
  const scheduled = i % 23 === 0;
  const out: Sample[] = [ev('NotificationRequested', {
    userId: `u-${i % 2000}`, channel, category: CATEGORIES[i % 4]!, content: { [channel]: channel === 'email' ? { subject: 's', text: 't' } : { title: 't', body: 'b' } },
    routes: i % 17 === 0 ? [] : [route], priority: i % 11 === 0 ? 'high' : 'normal', ...(scheduled ? { sendAt: at(3_600_000) } : {}), ...(i % 2 ? { template: { id: `tpl-${i % 3}`, version: 1, locale: null } } : {}), at: at(0),
  })];
  if (i % 17 === 0) return [...out, ev('NotificationSuppressed', { reason: i % 2 ? 'no_address' : 'channel_opted_out', at: at(1) })];
  if (i % 11 === 0) out.push(ev('NotificationExpedited', { routes: [route], at: at(1) }));
  if (scheduled && i % 2 === 0) return [...out, ev('NotificationCancelled', { at: at(60_000) })];
  const sent = (ms: number) => ev('NotificationSent', { route, provider: 'sandbox', attempt: 1, deliveries: [{ to: '***1234', providerMessageId: `pm-${i}` }], rejected: [], at: at(ms) });
  if (scheduled) out.push(ev('DeliveryDue', { route, attempt: 1, at: at(3_600_000) }));
  // Due inside quiet hours set since the request: held until they end, then due again.
  const held = scheduled && i % 46 === 23;
  if (held) out.push(ev('DeliveryHeld', { route, attempt: 1, until: at(28_800_000), reason: 'quiet_hours', at: at(3_600_100) }), ev('DeliveryDue', { route, attempt: 1, at: at(28_800_000) }));
  if (i % 7 === 0) {
    out.push(ev('DeliveryAttemptFailed', { route, provider: 'sandbox', attempt: 1, reason: 'timeout', retryAt: at(2000), rejected: [], at: at(1000) }));
    out.push(ev('DeliveryDue', { route, attempt: 2, at: at(2000) }));
    out.push(ev('NotificationFailed', { route, provider: 'sandbox', reason: i % 3 ? 'timeout' : 'unregistered_token', permanent: false, attempts: 2, rejected: [], at: at(2500) }));
    if (i % 14 !== 0) return out;
    out.push(ev('DeliveryRedriven', { route, at: at(90_000) }));
    out.push(sent(91_000));
  } else if (route === 'fcm' && i % 13 === 4) {
    // Reached one device while another failed for a passing reason: that one alone is retried, twice.
    const digest = hex64(200_000 + i);
    const unsent = (reason: string) => [{ to: 'tok-…(64)', reason, tokenDigest: digest }];
    out.push(ev('NotificationSent', { route, provider: 'fcm', attempt: 1, deliveries: [{ to: 'tok-…(64)', providerMessageId: `pm-${i}` }], rejected: [], unsent: unsent('provider_unavailable'), retryAt: at(1200), at: at(200) }));
    out.push(ev('DeliveryDue', { route, attempt: 2, at: at(1200) }));
    out.push(ev('UnsentDevicesRetried', { route, provider: 'fcm', attempt: 2, deliveries: [], rejected: [], unsent: unsent('timeout'), retryAt: at(3200), at: at(1300) }));
    out.push(ev('DeliveryDue', { route, attempt: 3, at: at(3200) }));
    out.push(ev('UnsentDevicesRetried', { route, provider: 'fcm', attempt: 3, deliveries: [{ to: 'tok-…(64)', providerMessageId: `pm-${i}-3` }], rejected: [], unsent: [], at: at(3300) }));
  } else if (route === 'sms' && i % 13 === 5) {
    // Twilio took it, then reported it undelivered (handset off): sent again, and that one arrived.
    out.push(sent(200), ev('MessageUndelivered', { route, attempt: 1, reason: 'twilio_30003', providerMessageId: `pm-${i}`, retryAt: at(5000), at: at(4000) }));
    out.push(ev('DeliveryDue', { route, attempt: 2, at: at(5000) }));
    out.push(ev('NotificationSent', { route, provider: 'twilio', attempt: 2, deliveries: [{ to: '***1234', providerMessageId: `pm-${i}-2` }], rejected: [], at: at(5100) }));
  } else out.push(sent(held ? 28_800_250 : scheduled ? 3_600_250 : 150 + (i % 400)));
  const tracked = (type: string, ms: number, extra: JsonObject = {}) => ev(type, { source: channel === 'email' ? 'sendgrid' : 'app', ...extra, at: at(ms) });
  if (i % 5 !== 0) out.push(tracked('NotificationDelivered', 2000 + (i % 3000)));
  if (i % 5 === 4) out.push(tracked('NotificationUndelivered', 2500, { reason: 'carrier' }));
  if (i % 3 === 0) out.push(tracked('NotificationOpened', 60_000));
  if (i % 6 === 0) out.push(tracked('NotificationClicked', 61_000, { url: 'https://example.com/x' }));
  if (i % 40 === 1) out.push(tracked('NotificationBounced', 3000, { bounce: 'hard', reason: 'mailbox' }));
  if (i % 50 === 2) out.push(tracked('NotificationUnsubscribed', 70_000));
  if (i % 60 === 3) out.push(tracked('NotificationMarkedAsSpam', 80_000));
  return out;
}

function userLife(u: number): Sample[] {
  const userId = `u-${u}`;
  const stream = `user-${userId}`;
  const at = iso(u * 1000);
  const prefs = { channels: { sms: u % 2 === 0 }, categories: { marketing: false }, categoryChannels: {}, marketing: u % 3 === 0, quietHours: null };
  return [
    { stream, type: 'UserProfileUpdated', data: { userId, email: `u${u}@example.com`, phone: '+14155550123', locale: 'en', timezone: null, at } },
    { stream, type: 'DeviceRegistered', data: { userId, token: `tok-${u}-a`, platform: u % 2 ? 'ios' : 'android', at } },
    { stream, type: 'DeviceRegistered', data: { userId, token: `tok-${u}-b`, platform: 'web', appId: 'app-1', at } },
    { stream: `device-${hex64(100_000 + u)}`, type: 'DeviceClaimed', data: { tokenDigest: hex64(100_000 + u), userId, ...(u % 7 === 0 ? { previousUserId: `u-${u + 1}` } : {}), at } },
    ...(u % 3 === 0 ? [{ stream, type: 'DeviceTokenInvalidated', data: { userId, token: `tok-${u}-a`, reason: 'unregistered_token', at } }] : []),
    ...(u % 4 === 0 ? [{ stream, type: 'DeviceRemoved', data: { userId, token: `tok-${u}-b`, at } }] : []),
    ...(u % 5 === 0 ? [{ stream, type: 'ContactOptedOut', data: { userId, channel: 'email', address: `u${u}@example.com`, reason: 'hard_bounce', source: 'sendgrid', at } }] : []),
    ...(u % 10 === 0
      ? [
          { stream, type: 'ContactOptedOut', data: { userId, channel: 'sms', address: '+14155550123', reason: 'stop_reply', source: 'twilio', at } },
          { stream, type: 'ContactOptedIn', data: { userId, channel: 'sms', address: '+14155550123', reason: 'start_reply', source: 'twilio', at } },
        ]
      : []),
    ...(u % 6 === 0 ? [{ stream, type: 'PreferencesUpdated', data: { userId, preferences: prefs, at } }] : []),
  ];
}

function fixedEvents(): Sample[] {
  const at = iso(0);
  const content = { push: { title: 'Hi {{name}}', body: 'b' } };
  return [
    { stream: 'apikeys', type: 'ApiKeyIssued', data: { keyId: 'k1', sha256: hex64(1), label: 'test', at } },
    { stream: 'app-a1', type: 'AppCreated', data: { appId: 'a1', name: 'A', scopes: ['send', 'read'], keyId: 'k2', sha256: hex64(2), at } },
    { stream: 'app-a1', type: 'AppKeyRotated', data: { appId: 'a1', keyId: 'k3', sha256: hex64(3), previousKeyId: 'k2', previousValidUntil: iso(86_400_000), at } },
    { stream: 'app-a1', type: 'AppCallbackSet', data: { appId: 'a1', url: 'https://shop.example.com/herald', events: ['sent', 'failed'], secretVersion: 1, at } },
    { stream: 'app-a1', type: 'AppCallbackSecretRotated', data: { appId: 'a1', secretVersion: 2, previousValidUntil: iso(86_400_000), at } },
    { stream: 'app-a1', type: 'AppCallbackCleared', data: { appId: 'a1', at } },
    { stream: 'app-a1', type: 'AppRevoked', data: { appId: 'a1', at } },
    { stream: 'category-marketing', type: 'CategoryConfigured', data: { category: 'marketing', transactional: false, marketing: true, rateLimit: { max: 3, windowSeconds: 86_400, window: 'sliding', overLimit: 'suppress', appliesToTransactional: false }, at } },
    { stream: 'rate-u-1', type: 'RateSlotTaken', data: { userId: 'u-1', category: 'marketing', slotId: 's1', windowStart: at, at } },
    { stream: 'rate-u-1', type: 'RateSlotTaken', data: { userId: 'u-1', category: 'marketing', slotId: 's2', windowStart: at, at } },
    { stream: 'rate-u-1', type: 'RateSlotReleased', data: { userId: 'u-1', category: 'marketing', slotId: 's2', windowStart: at, notificationIds: [uuid(2)], at } },
    { stream: 'template-t1', type: 'TemplateCreated', data: { templateId: 't1', version: 1, defaultLocale: 'en', locales: { en: content }, at } },
    { stream: 'template-t1', type: 'TemplateVersionAdded', data: { templateId: 't1', version: 2, defaultLocale: 'en', locales: { en: content }, at } },
    { stream: 'provider-events-twilio', type: 'ProviderEventUnmatched', data: { provider: 'twilio', providerMessageId: 'SM1', fact: { kind: 'delivered', source: 'twilio' }, at } },
    { stream: 'provider-events-twilio', type: 'ProviderEventMatched', data: { provider: 'twilio', revision: 0, notificationId: uuid(1), at } },
    { stream: 'provider-reply-twilio-SM1', type: 'ProviderReplyHandled', data: { provider: 'twilio', messageId: 'SM1', keyword: 'stop', from: '+1415*****23', changed: 1, at } },
  ];
}

/** Appends about `target` events; returns how many were written, by type. */
export async function writeLog(events: EventStore, target: number, wave = 400): Promise<Map<string, number>> {
  const byType = new Map<string, number>();
  const write = async (samples: readonly Sample[]) => {
    await Promise.all(samples.map((s) => events.append(s.stream, [{ type: s.type, data: s.data }], 'any')));
    for (const s of samples) byType.set(s.type, (byType.get(s.type) ?? 0) + 1);
  };
  await write(fixedEvents());
  let written = 0;
  for (let u = 0; u < 2000; u += wave) {
    const users = Array.from({ length: Math.min(wave, 2000 - u) }, (_, k) => userLife(u + k));
    for (let step = 0; users.some((l) => l.length > step); step += 1) await write(users.flatMap((l) => l.slice(step, step + 1)));
  }
  for (let i = 0; written < target; i += wave) {
    const lives = Array.from({ length: wave }, (_, k) => notificationLife(i + k));
    // Step k appends the k-th event of every notification in the wave: streams interleave in $all.
    for (let step = 0; lives.some((l) => l.length > step); step += 1) {
      const samples = lives.flatMap((l) => l.slice(step, step + 1));
      await write(samples);
      written += samples.length;
    }
  }
  return byType;
}
