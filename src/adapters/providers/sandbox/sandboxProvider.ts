import { appendFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { DeliveryMessage, DeliveryProvider, DeliveryResult, Route } from '../../../ports/deliveryProvider.ts';
import { channelOfRoute } from '../../../domain/channels.ts';
import { substitute } from '../../../tracking/substitutions.ts';

export interface SandboxOptions {
  /** The JSON-lines outbox every delivery is written to. */
  outboxFile: string;
  /** Share of calls (0..1) that fail as a transient provider error: for retry and crash tests. */
  failureRate?: number;
  /** Simulated provider latency per call. */
  latencyMs?: number;
  random?: () => number;
}

/**
 * The local stand-in for a real provider, used for any channel without credentials. Deliveries
 * land in ./data/sandbox-outbox.jsonl as {"notificationId","channel","to","content","at"}.
 */
export function createSandboxProvider(route: Route, options: SandboxOptions): DeliveryProvider {
  const random = options.random ?? Math.random;
  return {
    id: 'sandbox',
    route,
    maxBatchSize: 500,
    limits: { concurrency: 4 },
    async send(messages: readonly DeliveryMessage[]): Promise<DeliveryResult[]> {
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
      const results: DeliveryResult[] = [];
      const lines: string[] = [];
      const at = new Date().toISOString();
      for (const m of messages) {
        if (options.failureRate && random() < options.failureRate) {
          results.push({ status: 'failed', reason: 'sandbox_injected_failure' });
          continue;
        }
        // The outbox shows what the recipient would get: email substitutions applied.
        const content = m.route === 'email' ? substitute(m.content, m.substitutions) : m.content;
        const headers = m.route === 'email' && m.headers ? { headers: m.headers } : {};
        lines.push(JSON.stringify({ notificationId: m.notificationId, channel: channelOfRoute(m.route), route: m.route, to: m.to, content, ...headers, at, pid: process.pid }));
        results.push({ status: 'sent', providerMessageId: `sandbox-${randomUUID()}` });
      }
      if (lines.length > 0) await appendFile(options.outboxFile, `${lines.join('\n')}\n`);
      return results;
    },
    async close() {},
  };
}
