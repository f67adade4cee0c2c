/**
 * The FCM adapter alone, on each transport, against the fake FCM of the fakes process: the same
 * sendEach batches over HTTP/1.1 with a kept-alive pool (`http1`, the default) and over the SDK's
 * own HTTP/2 (`http2`, one new connection per call). Batches of 500 are what a busy delivery
 * worker sends; small ones what a quiet one sends every 20 ms window. CPU is this process's:
 * Herald is not running during this phase, and the fake answers from its own process.
 */
import type { DeliveryMessage, DeliveryProvider } from '../../ports/deliveryProvider.ts';
import type { Logger } from '../../ports/logger.ts';
import { createFcmProvider, FCM_DEFAULT_MAX_SOCKETS, type FcmTransport } from '../../adapters/providers/fcm/index.ts';
import { FakeRouteAgent, routeFcmHttp2 } from '../../../test/fakes/fcmServer.ts';
import type { BenchFakes } from './fakes.ts';
import { round } from './stats.ts';

export interface FcmTransportFigure {
  transport: FcmTransport;
  /** Messages per sendEach call, and calls made (4 at a time, the adapter's concurrency). */
  batch: number;
  calls: number;
  messagesPerSecond: number;
  /** CPU of this process per message sent (user + system). */
  cpuMicrosPerMessage: number;
  /** TCP connections the fake accepted during the timed calls. */
  connections: number;
  failed: number;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const CONCURRENCY = 4;

function message(i: number): DeliveryMessage {
  return { notificationId: `bench-${i}`, route: 'fcm', to: `bench-fcm-token-${i}-${'x'.repeat(120)}`, priority: 'high', content: { title: 'Your order shipped', body: 'It arrives on Thursday.', data: { orderId: String(i) } } };
}

async function measure(fakes: BenchFakes, transport: FcmTransport, batch: number, calls: number): Promise<FcmTransportFigure> {
  const { port, ca, projectId, accessToken } = fakes.endpoints.fcm;
  const unroute = transport === 'http2' ? routeFcmHttp2(port, ca) : () => undefined;
  const agent = transport === 'http1' ? new FakeRouteAgent(port, ca, FCM_DEFAULT_MAX_SOCKETS) : undefined;
  const provider: DeliveryProvider = createFcmProvider({ projectId, clientEmail: 'bench@herald-test.iam.gserviceaccount.com', privateKey: 'unused', transport }, silent, {
    credential: { getAccessToken: async () => ({ access_token: accessToken, expires_in: 3600 }) },
    ...(agent ? { httpAgent: agent } : {}),
  });
  const messages = Array.from({ length: batch }, (_, i) => message(i));
  try {
    // Warm-up: JIT, the access token, and for http1 a pool as large as the load needs.
    for (let round = 0; round < 2; round += 1) await Promise.all(Array.from({ length: CONCURRENCY }, () => provider.send(messages)));
    const before = await fakes.counts();
    const cpu = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    let failed = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < calls) {
        next += 1;
        failed += (await provider.send(messages)).filter((r) => r.status !== 'sent').length;
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const after = await fakes.counts();
    const sent = batch * calls;
    return { transport, batch, calls, messagesPerSecond: round(sent / seconds), cpuMicrosPerMessage: round((used.user + used.system) / sent, 1), connections: after.connections.fcm - before.connections.fcm, failed };
  } finally {
    await provider.close();
    agent?.destroy();
    unroute();
  }
}

/** Every transport at every batch size, alternating transports so a drifting machine favours neither. */
export async function fcmTransports(fakes: BenchFakes, plan: readonly { batch: number; calls: number }[]): Promise<FcmTransportFigure[]> {
  const figures: FcmTransportFigure[] = [];
  for (const { batch, calls } of plan) for (const transport of ['http1', 'http2'] as const) figures.push(await measure(fakes, transport, batch, calls));
  return figures;
}
