/**
 * The delivery provider port. One provider serves one route; it takes a batch of messages and
 * returns one typed result per message, in order. Per-recipient problems are results, never
 * exceptions: one bad device token must not fail the rest of a batch.
 */

/** Where a message physically goes: push splits into APNs (iOS) and FCM (Android, web). */
export type Route = 'apns' | 'fcm' | 'sms' | 'email';
export const ROUTES: readonly Route[] = ['apns', 'fcm', 'sms', 'email'];

/** A push the device shows: a banner with a title and body, perhaps a sound and a badge. */
export interface AlertPush {
  title: string;
  body: string;
  /** String values only: FCM and APNs custom data are string maps on the wire. */
  data?: Record<string, string>;
  /**
   * The sound: a sound file's name in the app, or 'default'. Absent: the system's default sound
   * (iOS plays none for a push without one). null: none, a silent banner.
   */
  sound?: string | null;
  /** The number on the app's icon (APNs badge; Android's notification count). */
  badge?: number;
  /** A newer push with the same key replaces the one shown (APNs apns-collapse-id; FCM collapse key and tag; web push Topic). */
  collapseKey?: string;
  /** The HTTPS page a web push opens when clicked (FCM webpush fcm_options.link). Mobile apps take their deep links from data. */
  link?: string;
  silent?: undefined;
}
/**
 * A push the device does not show: it wakes the app with its data (APNs background push with
 * content-available, FCM data message), e.g. to sync. Nothing to show, so no title, sound or badge.
 */
export interface SilentPush {
  silent: true;
  /** What the app is woken for: at least one key (a push of nothing at all is refused). */
  data: Record<string, string>;
  collapseKey?: string;
}
export type PushContent = AlertPush | SilentPush;
export interface SmsContent {
  body: string;
}
export interface EmailContent {
  subject: string;
  text?: string;
  html?: string;
}

interface MessageBase {
  notificationId: string;
  /** Device token, E.164 phone number or email address. Never log it unmasked. */
  to: string;
  priority?: 'high' | 'normal';
  /** ISO time past which the message is worthless: providers that can are told to drop it rather than deliver it late. */
  expiresAt?: string;
}
export type DeliveryMessage =
  | (MessageBase & { route: 'apns' | 'fcm'; content: PushContent })
  | (MessageBase & { route: 'sms'; content: SmsContent })
  | (MessageBase & {
      route: 'email';
      content: EmailContent;
      /**
       * This recipient's values for literal tags in `content` (subject, text, html): what is
       * delivered is `content` with each tag replaced. Lets emails that differ only in these values
       * share one content (SendGrid sends them as one request with per-personalization
       * substitutions); a provider that cannot pass them on replaces them itself before sending.
       */
      substitutions?: Record<string, string>;
      /**
       * This recipient's extra mail headers (List-Unsubscribe and List-Unsubscribe-Post, see
       * src/tracking/listUnsubscribe.ts). Per recipient, like `substitutions`, so they never split
       * emails of the same content into separate requests.
       */
      headers?: Record<string, string>;
    });

/** Permanent: retrying the same message to the same address can never succeed. */
export type RejectReason =
  | 'unregistered_token'
  | 'invalid_token'
  | 'invalid_address'
  | 'unsubscribed'
  | 'blocked'
  | 'invalid_content';

export type DeliveryResult =
  | { status: 'sent'; providerMessageId: string }
  | { status: 'rejected'; reason: RejectReason; detail?: string }
  /** Transient: worth retrying later, no sooner than `retryAfterMs` when the provider said. */
  | { status: 'failed'; reason: string; retryAfterMs?: number; detail?: string };

export interface DeliveryProvider {
  /** Provider id shown in events, logs and metrics: 'sandbox', 'fcm', 'apns', 'twilio', 'sendgrid'. */
  readonly id: string;
  readonly route: Route;
  /** Most messages `send` accepts at once (FCM 500, SendGrid 1,000, one for SMS). */
  readonly maxBatchSize: number;
  /** Defaults that protect the provider and our account; config may lower or raise them. */
  readonly limits: { concurrency: number; ratePerSecond?: number };
  /**
   * The longest one `send` may take before it settles (its call timeout; SendGrid's call budget),
   * from which the route's delivery group waits long enough for an ack (deliveryInFlight.ts).
   * Unset where no bound is known (the sandbox): the group keeps the default 60 s.
   */
  readonly callBoundMs?: number;
  /** Resolves with results[i] for messages[i]; rejects only when the whole call could not be made. */
  send(messages: readonly DeliveryMessage[]): Promise<DeliveryResult[]>;
  close(): Promise<void>;
}
