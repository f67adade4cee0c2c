/**
 * Closing the HTTP API within a stop's deadline. fastify's close, with its defaults
 * (`forceCloseConnections: 'idle'`, `return503OnClosing: true`), answers a request that arrives
 * while closing with a 503 and `Connection: close`, closes the idle keep-alive connections, and
 * waits for the requests in flight, with no bound of its own: a slow handler, or a client that
 * trickles its body (for HERALD_REQUEST_TIMEOUT_MS, or for ever at 0), would hold the whole stop.
 * Past the deadline their connections are closed: their clients see them fail, and may send them
 * again (an Idempotency-Key makes that safe).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../ports/logger.ts';
import { settlesWithin, STORES_CLOSE_MS, StopDeadlineError, type StopBudget } from '../stopDeadline.ts';

/** Counts the app's requests in flight from now on; returns its close within a stop's budget. */
export function closerWithin(app: FastifyInstance, logger: Logger): (budget: StopBudget) => Promise<void> {
  let inFlight = 0;
  app.server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight += 1;
    res.once('close', () => (inFlight -= 1));
  });
  return async (budget) => {
    const closed = app.close();
    if (await settlesWithin(closed, budget.left())) return closed;
    logger.error({ requests: inFlight, deadlineMs: budget.deadlineMs }, `stop deadline passed with ${inFlight} HTTP ${inFlight === 1 ? 'request' : 'requests'} in flight: their connections are closed, so their clients see them fail`);
    app.server.closeAllConnections();
    await settlesWithin(closed, budget.left(STORES_CLOSE_MS));
    throw new StopDeadlineError(budget.deadlineMs, ['http']);
  };
}
