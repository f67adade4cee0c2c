/**
 * zod schemas for events read back from a store: the store is an edge, and an event written by an
 * older or buggy version must be caught here, not deep inside a projection.
 */
import { z } from 'zod';
import { CALLBACK_OUTCOMES } from '../domain/appCallback.ts';

const at = z.string();
const route = z.enum(['apns', 'fcm', 'sms', 'email']);
const rejection = z.object({ to: z.string(), reason: z.string() });
const content = z.object({
  push: z.union([
    z.object({ silent: z.literal(true), data: z.record(z.string(), z.string()), collapseKey: z.string().optional() }),
    z.object({ title: z.string(), body: z.string(), data: z.record(z.string(), z.string()).optional(), sound: z.string().nullable().optional(), badge: z.union([z.number().int(), z.string()]).optional(), collapseKey: z.string().optional(), link: z.string().optional() }),
  ]).optional(),
  sms: z.object({ body: z.string() }).optional(),
  email: z.object({ subject: z.string(), text: z.string().optional(), html: z.string().optional() }).optional(),
});
const nullableString = z.string().nullable().optional();
const channelFlags = z.object({ push: z.boolean().optional(), sms: z.boolean().optional(), email: z.boolean().optional() });
const preferences = z.object({
  channels: channelFlags,
  categories: z.record(z.string(), z.boolean()),
  categoryChannels: z.record(z.string(), channelFlags),
  marketing: z.boolean(),
  quietHours: z.object({ start: z.string(), end: z.string() }).nullable(),
});
const rateLimit = z.object({
  max: z.number().int().min(1),
  windowSeconds: z.number().int().min(1),
  window: z.enum(['fixed', 'sliding']),
  overLimit: z.enum(['suppress', 'defer']),
  appliesToTransactional: z.boolean(),
});
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const unsent = z.object({ to: z.string(), reason: z.string(), tokenDigest: sha256Hex.optional() });
const trackingSource = z.enum(['app', 'email_pixel', 'email_link', 'list_unsubscribe', 'sendgrid', 'twilio']);
const tracked = { notificationId: z.string(), source: trackingSource, providerEventId: z.string().optional(), at };
const trackingFact = z.looseObject({ kind: z.enum(['delivered', 'opened', 'clicked', 'bounced', 'unsubscribed', 'spam', 'undelivered']), source: trackingSource });

export const eventSchemas = {
  NotificationRequested: z.object({
    notificationId: z.string(),
    userId: z.string(),
    channel: z.enum(['push', 'sms', 'email']),
    category: z.string(),
    transactional: z.boolean().optional(),
    content,
    routes: z.array(route),
    priority: z.enum(['high', 'normal']),
    sendAt: z.string().optional(),
    expiresAt: z.string().optional(),
    heldFor: z.enum(['quiet_hours', 'rate_limited']).optional(),
    template: z.object({ id: z.string(), version: z.number().int(), locale: z.string().nullable() }).optional(),
    idempotencyKey: z.string().optional(),
    requestHash: z.string().optional(),
    rateSlot: z.object({ slotId: z.string(), windows: z.array(z.string()), notificationIds: z.array(z.string()) }).optional(),
    at,
  }),
  NotificationSuppressed: z.object({ notificationId: z.string(), reason: z.enum(['no_address', 'unknown_user', 'channel_opted_out', 'category_opted_out', 'marketing_unsubscribed', 'rate_limited', 'expired']), at }),
  NotificationSent: z.object({
    notificationId: z.string(),
    route,
    provider: z.string(),
    attempt: z.number().int().optional(),
    deliveries: z.array(z.object({ to: z.string(), providerMessageId: z.string() })),
    rejected: z.array(rejection),
    unsent: z.array(unsent).optional(),
    retryAt: z.string().optional(),
    at,
  }),
  UnsentDevicesRetried: z.object({
    notificationId: z.string(),
    route,
    provider: z.string(),
    attempt: z.number().int().min(1),
    deliveries: z.array(z.object({ to: z.string(), providerMessageId: z.string() })),
    rejected: z.array(rejection),
    unsent: z.array(unsent),
    retryAt: z.string().optional(),
    at,
  }),
  NotificationFailed: z.object({
    notificationId: z.string(),
    route,
    provider: z.string(),
    reason: z.string(),
    permanent: z.boolean(),
    attempts: z.number().int().optional(),
    rejected: z.array(rejection),
    at,
  }),
  MessageUndelivered: z.object({
    notificationId: z.string(),
    route,
    attempt: z.number().int().min(1),
    reason: z.string(),
    providerMessageId: z.string().optional(),
    retryAt: z.string().optional(),
    at,
  }),
  DeliveryAttemptFailed: z.object({
    notificationId: z.string(),
    route,
    provider: z.string(),
    attempt: z.number().int().min(1),
    reason: z.string(),
    retryAt: z.string(),
    rejected: z.array(rejection),
    at,
  }),
  DeliveryDue: z.object({ notificationId: z.string(), route, attempt: z.number().int().min(1), at }),
  DeliveryHeld: z.object({ notificationId: z.string(), route, attempt: z.number().int().min(1), until: z.string(), reason: z.literal('quiet_hours'), at }),
  DeliveryRedriven: z.object({ notificationId: z.string(), route, at }),
  NotificationCancelled: z.object({ notificationId: z.string(), at }),
  NotificationExpedited: z.object({ notificationId: z.string(), routes: z.array(route), at }),
  NotificationOpened: z.object({ notificationId: z.string(), source: trackingSource.optional(), providerEventId: z.string().optional(), at }),
  NotificationDelivered: z.object(tracked),
  NotificationClicked: z.object({ ...tracked, url: z.string().optional() }),
  NotificationBounced: z.object({ ...tracked, bounce: z.enum(['hard', 'soft']), reason: z.string().optional() }),
  NotificationUnsubscribed: z.object(tracked),
  NotificationMarkedAsSpam: z.object(tracked),
  NotificationUndelivered: z.object({ ...tracked, reason: z.string().optional() }),
  ProviderEventUnmatched: z.object({ provider: z.string(), providerMessageId: z.string().optional(), notificationId: z.string().optional(), fact: trackingFact, to: z.string().optional(), at }),
  ProviderEventMatched: z.object({ provider: z.string(), revision: z.number().int().min(0), notificationId: z.string(), at }),
  ProviderReplyHandled: z.object({ provider: z.string(), messageId: z.string(), keyword: z.enum(['stop', 'start']), from: z.string(), changed: z.number().int().min(0), at }),
  UserProfileUpdated: z.object({ userId: z.string(), email: nullableString, phone: nullableString, locale: nullableString, timezone: nullableString, at }),
  DeviceRegistered: z.object({ userId: z.string(), token: z.string(), platform: z.enum(['ios', 'android', 'web']), appId: z.string().optional(), at }),
  DeviceRemoved: z.object({ userId: z.string(), token: z.string(), reason: z.enum(['claimed_by_another_user', 'device_limit']).optional(), at }),
  DeviceClaimed: z.object({ tokenDigest: sha256Hex, userId: z.string(), previousUserId: z.string().optional(), at }),
  DeviceTokenInvalidated: z.object({ userId: z.string(), token: z.string(), reason: z.string(), notificationId: z.string().optional(), at }),
  ContactOptedOut: z.object({
    userId: z.string(),
    channel: z.enum(['email', 'sms']),
    address: z.string(),
    reason: z.enum(['hard_bounce', 'spam_report', 'unsubscribed', 'stop_reply', 'carrier_opt_out', 'invalid_address']),
    source: z.string(),
    notificationId: z.string().optional(),
    at,
  }),
  ContactOptedIn: z.object({ userId: z.string(), channel: z.enum(['email', 'sms']), address: z.string(), reason: z.enum(['start_reply', 'cleared_by_operator']), source: z.string(), at }),
  ApiKeyIssued: z.object({ keyId: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), label: z.string(), at }),
  AppCreated: z.object({ appId: z.string(), name: z.string(), scopes: z.array(z.enum(['send', 'read', 'admin'])), keyId: z.string(), sha256: sha256Hex, at }),
  AppKeyRotated: z.object({ appId: z.string(), keyId: z.string(), sha256: sha256Hex, previousKeyId: z.string(), previousValidUntil: z.string(), at }),
  AppRevoked: z.object({ appId: z.string(), at }),
  AppCallbackSet: z.object({ appId: z.string(), url: z.string(), events: z.array(z.enum(CALLBACK_OUTCOMES)), secretVersion: z.number().int().min(1), at }),
  AppCallbackCleared: z.object({ appId: z.string(), at }),
  AppCallbackSecretRotated: z.object({ appId: z.string(), secretVersion: z.number().int().min(1), previousValidUntil: z.string(), at }),
  PreferencesUpdated: z.object({ userId: z.string(), preferences: preferences, at }),
  CategoryConfigured: z.object({ category: z.string(), transactional: z.boolean(), marketing: z.boolean(), rateLimit: rateLimit.nullable(), at }),
  RateSlotTaken: z.object({ userId: z.string(), category: z.string(), slotId: z.string(), windowStart: z.string(), at }),
  RateSlotReleased: z.object({ userId: z.string(), category: z.string(), slotId: z.string(), windowStart: z.string(), notificationIds: z.array(z.string()), at }),
  // Template parts share the inline content's shape; their strings are Handlebars sources.
  TemplateCreated: z.object({ templateId: z.string(), version: z.number().int().min(1), defaultLocale: z.string(), locales: z.record(z.string(), content), at }),
  TemplateVersionAdded: z.object({ templateId: z.string(), version: z.number().int().min(1), defaultLocale: z.string(), locales: z.record(z.string(), content), at }),
} as const;
