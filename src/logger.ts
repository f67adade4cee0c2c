import { pino, type Logger as Pino } from 'pino';
import { maskedUrl } from './mask.ts';

/**
 * JSON logs (pino). Secrets and contact details must never reach a log line: headers that carry
 * keys are redacted here, request URLs are logged through `maskedUrl` (mask.ts) (fastify takes this
 * logger's `req` serializer over its own), and code logs addresses only through src/mask.ts.
 * Every request line carries fastify's `reqId` (the caller's x-request-id when it is a plain token).
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Pino {
  return pino(
    {
      level,
      base: { service: 'herald' },
      serializers: {
        req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, url: maskedUrl(req.url ?? ''), remoteAddress: req.ip }),
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization', '*.headers.authorization', 'authorization', '*.authorization', '*.apiKey', '*.secret', 'secret', '*.token', 'token', '*.privateKey'],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}
