/**
 * Status callbacks to apps: a competing consumer of the `callbacks` group, which takes the
 * notification outcomes (appCallback.ts) and the app events that change a callback. For each
 * outcome it finds the notification's app (NotificationRequested's metadata), and when the app
 * wants that outcome, queues it on the app's lane (callbackLane.ts). An event is acked once its
 * callback was delivered, and parked once given up, so a crash before then sends it again: at
 * least once, with the event id in the body for receivers to drop duplicates. Taking events never
 * waits for a receiver, and the delivery groups are separate: a slow receiver holds up neither
 * other apps' callbacks nor any notification.
 *
 * Apps' callbacks are known from AppKeys, which follows every app event; an app event this
 * consumer takes from the group re-reads that app first, so the outcomes after it see the change.
 * While no app has a callback, an outcome costs the group's ack and nothing else (no read).
 */
import { decodeEvent, UnreadableEventError } from '../codec/events.ts';
import { AppKeys } from '../http/appKeys.ts';
import { CALLBACK_EVENT_TYPES, outcomeOf } from '../domain/appCallback.ts';
import type { NotificationEvent } from '../domain/notification.ts';
import { EventNotHeldError, type EventStore, type NackAction, type PersistentEvent, type PersistentSubscription } from '../ports/eventStore.ts';
import type { Logger } from '../ports/logger.ts';
import { LogEvery } from '../logEvery.ts';
import type { CallbackMetrics } from '../metrics.ts';
import type { CallbackConfig } from '../callbacks/config.ts';
import { callbackItem } from '../callbacks/payload.ts';
import { CallbackLane, type LaneOutcomes, type Pending } from './callbackLane.ts';
import { CallbackTargets } from './callbackTargets.ts';
import { callbackHold, PER_APP_BACKLOG, type CallbackHold } from './callbackHold.ts';
import { isStoreOutage, outageWaitMs, waitOutOutage } from './storeOutage.ts';
import { CALLBACK_GROUP } from './deliveryGroups.ts';

export { CALLBACK_GROUP };
const APP_EVENT_TYPES = ['AppCallbackSet', 'AppCallbackCleared', 'AppCallbackSecretRotated', 'AppRevoked'];
const MAX_IN_FLIGHT = 5000;
/** What the lanes may hold together: the group's window less room for the apps whose receivers answer. */
const SHARED_WINDOW = MAX_IN_FLIGHT - 1000;

export interface CallbackProcessorOptions {
  events: EventStore;
  logger: Logger;
  /** The server secret each app's callback secret is derived from (the tracking secret). */
  serverSecret: Buffer;
  config: CallbackConfig;
  metrics?: CallbackMetrics;
  perAppBacklog?: number;
  /** What the waiting queues may hold together (default SHARED_WINDOW); tests set a small one. */
  sharedWindow?: number;
  /** The group's message timeout (default: made from a full lane, callbackHold.ts); a shorter one shrinks the lanes. Tests set one of seconds. */
  messageTimeoutMs?: number;
}

export class CallbackProcessor {
  readonly group = CALLBACK_GROUP;
  private sub?: PersistentSubscription;
  private done?: Promise<void>;
  private readonly stopping = new AbortController();
  private readonly lanes = new Map<string, CallbackLane>();
  /** Positions held in a lane: the group hands an event out again when its ack is long in coming, and it is the same callback. */
  private readonly held = new Set<number>();
  /** Every app's state, following the app events: exact here for the events after one this consumer took, within a subscription round trip elsewhere. */
  private readonly apps: AppKeys;
  private readonly targets: CallbackTargets;
  private readonly log: Logger;
  private readonly backlogLogs = new Map<string, LogEvery>();
  private readonly hold: CallbackHold;

  constructor(private readonly o: CallbackProcessorOptions) {
    this.log = o.logger.child({ component: 'callbacks' });
    this.apps = new AppKeys(o.events, () => new Date(), this.log);
    this.targets = new CallbackTargets(o.events, this.apps, o.serverSecret);
    this.hold = callbackHold(o.config, o.messageTimeoutMs);
  }

  async start(): Promise<void> {
    await this.apps.start();
    await this.o.events.ensurePersistentSubscription(this.group, {
      filter: { eventTypes: [...CALLBACK_EVENT_TYPES, ...APP_EVENT_TYPES] },
      // No app had a callback before this group existed: nothing earlier is owed.
      startFrom: 'end',
      maxInFlight: MAX_IN_FLIGHT,
      messageTimeoutMs: this.hold.messageTimeoutMs, // a full lane's every batch at its worst, twice over
      maxRetryCount: 10,
    });
    const sub = this.o.events.connectPersistentSubscription(this.group);
    this.sub = sub;
    this.done = this.consume(sub);
  }

  async stop(): Promise<void> {
    await this.sub?.stopTaking();
    this.stopping.abort();
    await this.done;
    await Promise.all([...this.lanes.values()].map((lane) => lane.idle()));
    await this.sub?.close();
    await this.apps.close();
  }

  private async consume(sub: PersistentSubscription): Promise<void> {
    try {
      for await (const pe of sub) {
        if (!this.held.has(pe.event.position)) await this.take(pe);
      }
    } catch (error) {
      if (!this.stopping.signal.aborted) this.log.error({ err: error }, 'the callbacks subscription ended: no more callbacks until restart');
    }
  }

  private async take(pe: PersistentEvent): Promise<void> {
    try {
      const pending = await this.pendingOf(pe);
      if (!pending) return await this.settle(pe, 'ack');
      const appId = pending.item.appId;
      let lane = this.lanes.get(appId);
      if (!lane) this.lanes.set(appId, (lane = new CallbackLane(appId, this.o.config, this.outcomes, this.stopping.signal, this.log)));
      if (lane.size >= this.backlogLimit(lane)) return await this.parkPastBacklog(pending, lane.size);
      this.held.add(pe.event.position);
      lane.push(pending);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (error instanceof UnreadableEventError) return this.settle(pe, 'park', reason);
      if (isStoreOutage(error) && !(await waitOutOutage(outageWaitMs(pe.retryCount), this.stopping.signal))) return;
      this.log.warn({ err: error, position: pe.event.position }, 'could not prepare a callback; the event is tried again');
      await this.settle(pe, 'retry', reason);
    }
  }

  /**
   * How many events one app's lane may hold: PER_APP_BACKLOG, what it delivers in half the message
   * timeout at the worst (callbackHold.ts), and less while several lanes wait, so that stalled receivers
   * keep within the in-flight window with room (SHARED_WINDOW) for the other apps' callbacks.
   */
  private backlogLimit(lane: CallbackLane): number {
    let busy = lane.size === 0 ? 1 : 0;
    for (const l of this.lanes.values()) if (l.size > 0) busy += 1;
    return Math.min(this.o.perAppBacklog ?? PER_APP_BACKLOG, this.hold.laneLimit, Math.max(1, Math.floor((this.o.sharedWindow ?? SHARED_WINDOW) / busy)));
  }

  /** Parks an event its app's lane has no room for; logged once a minute per app, counted each time. */
  private async parkPastBacklog(pending: Pending, waiting: number): Promise<void> {
    const { appId } = pending.item;
    const reason = `app ${appId} already has ${waiting} callbacks waiting for its receiver`;
    this.o.metrics?.callbacks('given_up', 1);
    let every = this.backlogLogs.get(appId);
    if (!every) this.backlogLogs.set(appId, (every = new LogEvery()));
    const standsFor = every.due();
    if (standsFor > 0) this.log.warn({ appId, host: new URL(pending.target.url).host, parked: standsFor }, `${reason}: ${standsFor} more event(s) parked in the ${CALLBACK_GROUP} group (logged at most once a minute per app; the redrive sends them again)`);
    await this.settle(pending.pe, 'park', `callback given up: ${reason}`);
  }

  /** The callback this event makes, or null when it makes none. */
  private async pendingOf(pe: PersistentEvent): Promise<Pending | null> {
    if (APP_EVENT_TYPES.includes(pe.event.type)) {
      // Read now, before the events after it: the app-event subscription may not have brought it yet.
      await this.apps.refresh(String(pe.event.data.appId));
      return null;
    }
    // The usual case where no app has asked for callbacks: nothing read, nothing decoded.
    if (!this.apps.anyCallback) return null;
    const request = await this.targets.requestOf(String(pe.event.data.notificationId));
    const app = request && this.targets.appOf(request.appId);
    if (!request || !app) return null;
    const event = decodeEvent(pe.event);
    if (!event) return null;
    const notification = event as NotificationEvent;
    const outcome = outcomeOf(notification);
    if (!outcome || !app.events.includes(outcome)) return null;
    return { pe, item: callbackItem(pe.event.id, notification, outcome, request), target: app.target };
  }

  private async settle(pe: PersistentEvent, action: 'ack' | NackAction, reason = ''): Promise<void> {
    try {
      if (action === 'ack') await this.sub!.ack(pe);
      else await this.sub!.nack(action, reason, pe);
    } catch (error) {
      // Not held any more: the group hands it out again and it is sent again (at least once).
      if (!(error instanceof EventNotHeldError)) this.log.warn({ err: error, position: pe.event.position }, `could not ${action} a callback event`);
    } finally {
      this.held.delete(pe.event.position);
    }
  }

  private readonly outcomes: LaneOutcomes = {
    delivered: async (batch) => {
      this.o.metrics?.callbacks('delivered', batch.length);
      await Promise.all(batch.map((p) => this.settle(p.pe, 'ack')));
    },
    givenUp: async (batch, reason) => {
      this.o.metrics?.callbacks('given_up', batch.length);
      const { appId } = batch[0]!.item;
      this.log.warn({ appId, host: new URL(batch[0]!.target.url).host, eventIds: batch.map((p) => p.item.id), reason }, `callback to app ${appId} given up (${reason}): its ${batch.length} event(s) are parked in the ${CALLBACK_GROUP} group`);
      await Promise.all(batch.map((p) => this.settle(p.pe, 'park', `callback given up: ${reason}`)));
    },
    handedBack: async (batch) => {
      await Promise.all(batch.map((p) => this.settle(p.pe, 'release', 'stopping')));
    },
    retried: (batch, reason, delayMs) => {
      this.o.metrics?.callbacks('retried', batch.length);
      this.log.info({ appId: batch[0]!.item.appId, reason, delayMs }, 'callback not accepted; tried again after a delay');
    },
  };
}
