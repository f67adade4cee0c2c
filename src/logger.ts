import { pino, type Logger as Pino } from 'pino';
import { maskAddress, maskSecret } from './mask.ts';

/**
 * A URL as it may be logged: device tokens (DELETE …/devices/:token) and user ids that are
 * contact details (…/users/ada@example.com) are masked, and query values are dropped.
 */
export function loggableUrl(url: string): string {
  const [path = '', query] = url.split('?', 2);
  const segments = path.split('/').map((segment, i, all) => {
    const value = decodeURIComponentSafe(segment);
    if (all[i - 1] === 'devices') return maskSecret(value);
    return value.includes('@') || /^\+?\d[\d\s().-]{6,}$/.test(value) ? maskAddress(value) : segment;
  });
  return `${segments.join('/')}${query === undefined ? '' : `?${query.split('&').map((p) => `${p.split('=')[0] ?? ''}=…`).join('&')}`}`;
}

function decodeURIComponentSafe(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * JSON logs (pino). Secrets and contact details must never reach a log line: headers that carry
 * keys are redacted here, request URLs are logged through `loggableUrl` (fastify takes this
 * logger's `req` serializer over its own), and code logs addresses only through src/mask.ts.
 * Every request line carries fastify's `reqId` (the caller's x-request-id when it is a plain token).
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Pino {
  return pino(
    {
      level,
      base: { service: 'herald' },
      serializers: {
        req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, url: loggableUrl(req.url ?? ''), remoteAddress: req.ip }),
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization', '*.headers.authorization', 'authorization', '*.authorization', '*.apiKey', '*.secret', 'secret', '*.token', 'token', '*.privateKey'],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}
