/**
 * Prometheus metrics (prom-client). The one file that imports prom-client: processors and HTTP
 * see only the small interfaces of src/ports/metrics.ts (`DeliveryMetrics` and the like), so they
 * stay testable without a registry. Each Herald gets its own Registry (not prom-client's global
 * one), so two instances in one process (tests) do not collide.
 */
import { stat, statfs } from 'node:fs/promises';
import { basename } from 'node:path';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventStore } from './ports/eventStore.ts';
import type { CallbackMetrics, DeliveryMetrics, HttpMetrics, WatchedProjector } from './ports/metrics.ts';

// The status-callback lanes (src/processors/callback*.ts) import CallbackMetrics from here.
export type { CallbackMetrics } from './ports/metrics.ts';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DELIVERY_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export class Metrics implements DeliveryMetrics, HttpMetrics, CallbackMetrics {
  readonly registry = new Registry();
  private readonly httpDuration = new Histogram({ name: 'herald_http_request_duration_seconds', help: 'HTTP request duration by route pattern, method and status', labelNames: ['method', 'route', 'status'], buckets: SECONDS, registers: [this.registry] });
  private readonly deliveries = new Counter({ name: 'herald_deliveries_total', help: 'Delivery attempts settled, by route, provider and outcome', labelNames: ['route', 'provider', 'outcome'], registers: [this.registry] });
  private readonly latency = new Histogram({ name: 'herald_delivery_latency_seconds', help: 'Time from NotificationRequested to the provider accepting it (sent only)', labelNames: ['route', 'provider'], buckets: DELIVERY_SECONDS, registers: [this.registry] });
  private readonly retries = new Counter({ name: 'herald_delivery_retries_total', help: 'Delivery retries scheduled, by route', labelNames: ['route'], registers: [this.registry] });
  private readonly deadLetters = new Counter({ name: 'herald_dead_letters_total', help: 'Notifications dead-lettered, by route and reason', labelNames: ['route', 'reason'], registers: [this.registry] });
  private readonly callbackEvents = new Counter({ name: 'herald_callback_events_total', help: 'Events in status callbacks to apps, by result: delivered, retried (per attempt), given_up (parked in the callbacks group)', labelNames: ['result'], registers: [this.registry] });
  private readonly rejections = new Counter({ name: 'herald_http_rejected_total', help: 'Requests refused by abuse limits', labelNames: ['reason'], registers: [this.registry] });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
  }

  http(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status: String(status) }, seconds);
  }

  rejected(reason: 'rate_limited' | 'daily_quota_exceeded'): void {
    this.rejections.inc({ reason });
  }

  delivery(route: string, provider: string, outcome: string, latencyMs?: number): void {
    this.deliveries.inc({ route, provider, outcome });
    if (outcome === 'sent' && latencyMs !== undefined && latencyMs >= 0) this.latency.observe({ route, provider }, latencyMs / 1000);
  }

  callbacks(result: 'delivered' | 'retried' | 'given_up', events: number): void {
    this.callbackEvents.inc({ result }, events);
  }

  retry(route: string): void {
    this.retries.inc({ route });
  }

  deadLetter(route: string, reason: string): void {
    this.deadLetters.inc({ route, reason });
  }

  /**
   * Queue gauges, read from the event store on each scrape (never cached, so a scrape shows the
   * truth): per persistent subscription group the lag behind the head, the in-flight and the
   * parked counts. A group that cannot be read is left out, not zeroed.
   */
  watchEventStore(events: EventStore, groups: () => readonly string[]): void {
    const head = async () => events.headPosition().catch(() => undefined);
    const groupInfo = async () => {
      const infos = await Promise.all(groups().map((g) => events.persistentSubscriptionInfo(g).catch(() => undefined)));
      return infos.filter((i) => i !== undefined);
    };
    const register = [this.registry];
    new Gauge({
      name: 'herald_subscription_lag_events', help: 'Head position of $all minus the group checkpoint', labelNames: ['group'], registers: register,
      async collect() {
        this.reset();
        const [h, infos] = await Promise.all([head(), groupInfo()]);
        if (h !== undefined) for (const i of infos) this.set({ group: i.group }, Math.max(0, h - i.checkpoint));
      },
    });
    new Gauge({
      name: 'herald_subscription_in_flight', help: 'Events handed to consumers and not yet acked', labelNames: ['group'], registers: register,
      async collect() {
        this.reset();
        for (const i of await groupInfo()) this.set({ group: i.group }, i.inFlight);
      },
    });
    new Gauge({
      name: 'herald_subscription_parked', help: 'Events parked (dead-lettered) in the group', labelNames: ['group'], registers: register,
      async collect() {
        this.reset();
        for (const i of await groupInfo()) this.set({ group: i.group }, i.parked);
      },
    });
    new Gauge({
      name: 'herald_event_store_head_position', help: 'Position of the last event in $all', registers: register,
      async collect() {
        const h = await head();
        if (h !== undefined) this.set(h);
      },
    });
  }

  /**
   * Read-model gauges, read on each scrape: per projection the last log position it has applied,
   * and how stale it is, as the age of the oldest event of its types it has not applied yet (0
   * when it is up to date). Under load the projector trails the log on purpose (by up to
   * HERALD_PROJECTOR_MAX_PAUSE_MS), so alert on a lag far beyond that, not on any lag.
   */
  watchProjections(events: EventStore, projector: WatchedProjector, now: () => number = Date.now): void {
    const { projections, positions, stopped, unreadable } = projector;
    const register = [this.registry];
    new Gauge({
      name: 'herald_projection_stopped', help: '1 when the read model has stopped on an event its projection cannot apply (see the log; fix, then restart or replay), else 0', labelNames: ['projection'], registers: register,
      collect() {
        this.reset();
        for (const p of projections) if (positions.has(p.name)) this.set({ projection: p.name }, stopped?.has(p.name) ? 1 : 0);
      },
    });
    new Counter({
      name: 'herald_projection_unreadable_events_total', help: 'Events the read model skipped because their data does not match their type\'s schema (see the log line of each)', labelNames: ['projection'], registers: register,
      collect() {
        this.reset();
        for (const p of projections) if (positions.has(p.name)) this.inc({ projection: p.name }, unreadable?.get(p.name) ?? 0);
      },
    });
    new Gauge({
      name: 'herald_projection_position', help: 'Position of $all up to which the read model has applied the log', labelNames: ['projection'], registers: register,
      collect() {
        this.reset();
        for (const [projection, position] of positions) this.set({ projection }, position);
      },
    });
    new Gauge({
      name: 'herald_projection_lag_seconds', help: 'Age of the oldest event of its types the read model has not applied yet (0: up to date)', labelNames: ['projection'], registers: register,
      async collect() {
        this.reset();
        const lags = await Promise.all(projections.map(async (p) => {
          const position = positions.get(p.name);
          if (position === undefined) return undefined;
          try {
            const [next] = await events.readAll({ fromPosition: position, maxCount: 1, filter: { eventTypes: p.eventTypes } });
            return { projection: p.name, seconds: next ? Math.max(0, now() - next.created) / 1000 : 0 };
          } catch {
            // A store that cannot be read leaves the projection out rather than reporting it up to date.
            return undefined;
          }
        }));
        for (const lag of lags) if (lag) this.set({ projection: lag.projection }, lag.seconds);
      },
    });
  }

  /**
   * The embedded stores' disk use, read on each scrape: each file's size (its WAL is a file of its
   * own, `events.db-wal`) and the free and total space of the filesystem holding the data dir.
   * Nothing is ever deleted from the log (about 1.1 GB of events.db and 1.5 GB of read models per
   * million notifications, docs/operations.md), so this is what a "disk fills within days" alert reads.
   */
  watchDataFiles(dir: string, files: readonly string[]): void {
    const register = [this.registry];
    new Gauge({
      name: 'herald_data_file_bytes', help: 'Size of each embedded store file (database and its WAL) in the data dir', labelNames: ['file'], registers: register,
      async collect() {
        this.reset();
        const sizes = await Promise.all(files.flatMap((f) => [f, `${f}-wal`]).map(async (f) => ({ file: basename(f), bytes: (await stat(f).catch(() => undefined))?.size })));
        // A file not there (no WAL after a clean close) is left out rather than shown as 0 bytes.
        for (const { file, bytes } of sizes) if (bytes !== undefined) this.set({ file }, bytes);
      },
    });
    const space = async () => statfs(dir).catch(() => undefined);
    new Gauge({
      name: 'herald_data_dir_free_bytes', help: 'Space left for unprivileged writes on the filesystem holding the data dir', registers: register,
      async collect() {
        const fs = await space();
        if (fs) this.set(fs.bavail * fs.bsize);
      },
    });
    new Gauge({
      name: 'herald_data_dir_size_bytes', help: 'Size of the filesystem holding the data dir', registers: register,
      async collect() {
        const fs = await space();
        if (fs) this.set(fs.blocks * fs.bsize);
      },
    });
  }

  private readonly sources: (() => Promise<object[]>)[] = [];

  /** Metrics kept by another registry of this process (the background threads'), summed into every scrape. */
  addSource(source: () => Promise<object[]>): void {
    this.sources.push(source);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    if (this.sources.length === 0) return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    const parts = await Promise.all([this.registry.getMetricsAsJSON(), ...this.sources.map((source) => source().catch(() => []))]);
    return { contentType: this.registry.contentType, body: await AggregatorRegistry.aggregate(parts).metrics() };
  }
}
