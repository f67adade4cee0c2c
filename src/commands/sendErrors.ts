import type { Channel } from '../domain/channels.ts';

/** What a send request can be refused for before anything is written (http/sendErrors.ts makes them 422s). */
export class AlreadyExpiredError extends Error {
  readonly code = 'already_expired';
  constructor(readonly expiresAt: string) {
    super(`expiresAt ${expiresAt} has passed; nothing would be sent`);
  }
}

/** How far ahead `sendAt` may be by default: a year and a day, so "the same date next year" fits and a mistyped year does not. */
export const DEFAULT_MAX_SEND_AHEAD_DAYS = 366;

export class SendAtTooFarError extends Error {
  readonly code = 'send_at_too_far';
  constructor(readonly sendAt: string, readonly maxDays: number) {
    super(`sendAt ${sendAt} is more than ${maxDays} days ahead`);
  }
}

export class TemplateNotFoundError extends Error {
  readonly code = 'template_not_found';
  constructor(readonly templateId: string, readonly version?: number) {
    super(`no template ${templateId}${version ? ` version ${version}` : ''}; create it with POST /v1/templates/${templateId}`);
  }
}

export class TemplateChannelMissingError extends Error {
  readonly code = 'template_channel_missing';
  constructor(readonly templateId: string, readonly channel: Channel) {
    super(`channel ${channel} is requested but template ${templateId} has no ${channel} part`);
  }
}

export class IdempotencyKeyReusedError extends Error {
  readonly code = 'idempotency_key_reused';
  constructor(readonly idempotencyKey: string) {
    super(`idempotency key ${idempotencyKey} was already used for a different request`);
  }
}

/**
 * A send to several users failed for some after others were recorded: those are durable and will
 * be delivered, so the client must know them (a retry without an idempotency key would send them
 * twice). `cause` is what failed; `accepted` what was recorded, as a 202 would have listed it.
 */
export class PartlySentError extends Error {
  readonly code = 'partly_sent';
  constructor(override readonly cause: unknown, readonly accepted: readonly { id: string; userId: string; channel: Channel; status: string }[]) {
    super(`${accepted.length} notifications were recorded before the send failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
