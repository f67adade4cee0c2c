import { Writable } from 'node:stream';
import type { Logger } from '../../src/ports/logger.ts';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg?: string;
}

/**
 * A logger (the port) that keeps its warning and error lines (and its info lines, when asked) for a
 * test to read; children log into the same list.
 */
export function capturingLogger(options: { info?: boolean } = {}): { logger: Logger; lines: LogLine[]; errors: () => LogLine[] } {
  const lines: LogLine[] = [];
  const keep = (level: LogLine['level']) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, ...(msg === undefined ? {} : { msg }) });
  const logger: Logger = { debug: () => undefined, info: options.info ? keep('info') : () => undefined, warn: keep('warn'), error: keep('error'), child: () => logger };
  return { logger, lines, errors: () => lines.filter((l) => l.level === 'error') };
}

/** A stream for a pino logger (createLogger) that keeps the JSON lines written to it, as text. */
export function logStream(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => done(void lines.push(chunk.toString())) });
  return { stream, lines };
}
