/**
 * zod schemas for events read back from a store: the store is an edge, and an event written by an
 * older or buggy version must be caught here, not deep inside a projection.
 */
import { z } from 'zod';

const at = z.string();
const route = z.enum(['apns', 'fcm', 'sms', 'email']);
const rejection = z.object({ to: z.string(), reason: z.string() });
const content = z.object({
  push: z.object({ title: z.string(), body: z.string(), data: z.record(z.string(), z.string()).optional() }).optional(),
  sms: z.object({ body: z.string() }).optional(),
  email: z.object({ subject: z.string(), text: z.string().optional(), html: z.string().optional() }).optional(),
});
const nullableString = z.string().nullable().optional();
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const eventSchemas = {
  NotificationRequested: z.object({
    notificationId: z.string(),
    userId: z.string(),
    channel: z.enum(['push', 'sms', 'email']),
    category: z.string(),
    content,
    routes: z.array(route),
    priority: z.enum(['high', 'normal']),
    sendAt: z.string().optional(),
    idempotencyKey: z.string().optional(),
    requestHash: z.string().optional(),
    at,
  }),
  NotificationSuppressed: z.object({ notificationId: z.string(), reason: z.enum(['no_address', 'unknown_user']), at }),
  NotificationSent: z.object({
    notificationId: z.string(),
    route,
    provider: z.string(),
    attempt: z.number().int().optional(),
    deliveries: z.array(z.object({ to: z.string(), providerMessageId: z.string() })),
    rejected: z.array(rejection),
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
  DeliveryRedriven: z.object({ notificationId: z.string(), route, at }),
  NotificationCancelled: z.object({ notificationId: z.string(), at }),
  NotificationExpedited: z.object({ notificationId: z.string(), routes: z.array(route), at }),
  NotificationOpened: z.object({ notificationId: z.string(), at }),
  UserProfileUpdated: z.object({ userId: z.string(), email: nullableString, phone: nullableString, locale: nullableString, timezone: nullableString, at }),
  DeviceRegistered: z.object({ userId: z.string(), token: z.string(), platform: z.enum(['ios', 'android', 'web']), appId: z.string().optional(), at }),
  DeviceRemoved: z.object({ userId: z.string(), token: z.string(), at }),
  DeviceTokenInvalidated: z.object({ userId: z.string(), token: z.string(), reason: z.string(), notificationId: z.string().optional(), at }),
  ApiKeyIssued: z.object({ keyId: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), label: z.string(), at }),
  AppCreated: z.object({ appId: z.string(), name: z.string(), scopes: z.array(z.enum(['send', 'read', 'admin'])), keyId: z.string(), sha256: sha256Hex, at }),
  AppKeyRotated: z.object({ appId: z.string(), keyId: z.string(), sha256: sha256Hex, previousKeyId: z.string(), previousValidUntil: z.string(), at }),
  AppRevoked: z.object({ appId: z.string(), at }),
} as const;
