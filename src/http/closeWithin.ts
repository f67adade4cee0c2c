/**
 * Closing the HTTP API within a stop's deadline. fastify's close, with its defaults
 * (`forceCloseConnections: 'idle'`, `return503OnClosing: true`), answers a request that arrives
 * while closing with a 503 and `Connection: close`, closes the keep-alive connections idle when it
 * starts, and waits for the others with no bound of its own. Two things would hold the stop:
 * - a connection whose request finishes during the stop stays open (keep-alive, 72 s), so the
 *   close waits out the whole deadline with nothing in flight. Here each response still to be
 *   sent says `Connection: close`, and each request that ends while closing closes the
 *   connections left idle (all of them once none is in flight);
 * - a slow handler, or a client that trickles its body (for HERALD_REQUEST_TIMEOUT_MS, or for
 *   ever at 0). Past the deadline their connections are closed: their clients see them fail, and
 *   may send them again (an Idempotency-Key makes that safe).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../ports/logger.ts';
import { settlesWithin, STORES_CLOSE_MS, StopDeadlineError, type StopBudget } from '../stopDeadline.ts';

/** Counts the app's requests in flight from now on; returns its close within a stop's budget. */
export function closerWithin(app: FastifyInstance, logger: Logger): (budget: StopBudget) => Promise<void> {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  const server = app.server;
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    if (closing && !res.headersSent) res.setHeader('connection', 'close');
    res.once('close', () => {
      inFlight.delete(res);
      // After the response's own bookkeeping: the connection is idle only once it returns.
      if (closing) setImmediate(() => (inFlight.size === 0 ? server.closeAllConnections() : server.closeIdleConnections()));
    });
  });
  return async (budget) => {
    closing = true;
    for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    const closed = app.close();
    if (await settlesWithin(closed, budget.left())) return closed;
    const requests = inFlight.size;
    server.closeAllConnections();
    await settlesWithin(closed, budget.left(STORES_CLOSE_MS));
    if (requests === 0) return;
    logger.error({ requests, deadlineMs: budget.deadlineMs }, `stop deadline passed with ${requests} HTTP ${requests === 1 ? 'request' : 'requests'} in flight: their connections are closed, so their clients see them fail`);
    throw new StopDeadlineError(budget.deadlineMs, ['http']);
  };
}
