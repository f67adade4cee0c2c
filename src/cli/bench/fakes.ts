/**
 * The four local fake provider servers (bench/fakesProcess.ts, in their own process) and how
 * Herald reaches them: the REAL SDK adapters (firebase-admin, node-apn, twilio, @sendgrid/mail),
 * built on Herald's delivery thread by src/cli/bench/fakeProviders.ts.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Route } from '../../ports/deliveryProvider.ts';
import type { ProvidersModule } from '../../backendThread.ts';
import type { FakeEndpoints } from './fakeProviders.ts';

export interface BenchFakes {
  endpoints: FakeEndpoints;
  /** The fakes' process, whose CPU the benchmark reports apart from Herald's. */
  pid: number;
  /** For startHerald: the delivery thread builds the SDK providers pointed at the fakes. */
  providersModule: ProvidersModule;
  /** Provider calls each fake answered so far, the TCP connections they came over, and what the fakes found wrong (must stay 0). */
  counts(): Promise<FakeCounts>;
  close(): Promise<void>;
}

export interface FakeCounts {
  received: Record<Route, number>;
  /** Connections each fake accepted: few against many calls means the SDK reuses them (keep-alive, HTTP/2). */
  connections: Record<Route, number>;
  violations: number;
}

type FromFakes = { ready: FakeEndpoints } | { counts: FakeCounts };

const root = fileURLToPath(new URL('../../../', import.meta.url));

export function startBenchFakes(): Promise<BenchFakes> {
  const child = fork('bench/fakesProcess.ts', [], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let countsWaiting: ((c: FakeCounts) => void)[] = [];
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench/fakesProcess.ts exited with ${code} before it was ready`)));
    child.on('message', (message: FromFakes) => {
      if ('counts' in message) {
        const waiting = countsWaiting;
        countsWaiting = [];
        for (const answer of waiting) answer(message.counts);
        return;
      }
      resolve({
        endpoints: message.ready,
        pid: child.pid!,
        providersModule: { url: new URL('./fakeProviders.ts', import.meta.url).href, args: message.ready },
        counts: () =>
          new Promise((answer) => {
            countsWaiting.push(answer);
            child.send('counts');
          }),
        close: async () => {
          if (child.exitCode === null) child.send('close');
          await exited;
        },
      });
    });
  });
}
