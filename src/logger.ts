import { pino, type Logger as Pino } from 'pino';

/**
 * JSON logs (pino). Secrets and contact details must never reach a log line: request headers that
 * carry keys are redacted here, and code logs addresses only through src/mask.ts.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Pino {
  return pino(
    {
      level,
      base: { service: 'herald' },
      redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.apiKey', '*.secret', '*.token', '*.privateKey'], censor: '[redacted]' },
    },
    destination as pino.DestinationStream | undefined,
  );
}
