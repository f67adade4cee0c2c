import { createHash } from 'node:crypto';

/**
 * A UUID-shaped id derived from its parts (SHA-256, with the version and variant digits fixed),
 * so a repeated or racing request names the same stream and the store lets only one create it.
 * Joined with line breaks, which is unambiguous while at most one part can hold one: of a send's
 * (scope, key, user, channel) only the client's key can (app ids, user ids and channels cannot).
 * Changing the join would rename every idempotent stream already written.
 */
export function idempotentId(...parts: readonly string[]): string {
  const h = createHash('sha256').update(parts.join('\n')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
