import type { ApiKeyEvent } from './apiKey.ts';
import type { AppEvent } from './app.ts';
import type { NotificationEvent } from './notification.ts';
import type { UserEvent } from './user.ts';
import type { ProviderEvent } from './providerEvents.ts';
import type { CategoryConfiguredEvent } from './category.ts';
import type { RateWindowEvent } from './rateWindow.ts';
import type { TemplateEvent } from './template.ts';
import type { DeviceClaimedEvent } from './device.ts';

/** Every event Herald writes, a discriminated union on `type`. */
export type HeraldEvent = NotificationEvent | UserEvent | ApiKeyEvent | AppEvent | ProviderEvent | CategoryConfiguredEvent | RateWindowEvent | TemplateEvent | DeviceClaimedEvent;
export type HeraldEventType = HeraldEvent['type'];

/** A domain event as read back from the store, with where it sits in the log. */
export type Recorded<E extends HeraldEvent = HeraldEvent> = E & {
  streamName: string;
  revision: number;
  position: number;
  metadata: Record<string, unknown>;
};
