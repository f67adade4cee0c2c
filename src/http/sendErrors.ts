import { AlreadyExpiredError, IdempotencyKeyReusedError, PartlySentError, SendAtTooFarError, TemplateChannelMissingError, TemplateNotFoundError } from '../commands/sendErrors.ts';
import { TemplateRenderError } from '../templates/render.ts';
import { UnsubscribeLinkUnavailableError } from '../domain/unsubscribeTag.ts';
import type { FastifyRequest } from 'fastify';
import { EventStoreUnavailableError, WrongExpectedRevisionError } from '../ports/eventStore.ts';
import { Problem, concurrentUpdateProblem } from './problem.ts';

/**
 * The client's mistakes a send can only find out while it runs (after the body validated), as the
 * problem to answer with; undefined for anything else, which is not the client's to fix.
 * `at`: where in the body the send was (a batch item's `/requests/3`), so paths point into it.
 */
export function sendErrorProblem(error: unknown, at = ''): Problem | undefined {
  if (error instanceof IdempotencyKeyReusedError) return new Problem(422, error.code, 'Idempotency key reused', `${error.message}; use a new key for a new request`);
  if (error instanceof AlreadyExpiredError) return new Problem(422, error.code, 'Already expired', `${error.message}; check the sender's clock, or leave expiresAt out`, { errors: [{ in: 'body', path: `${at}/expiresAt`, message: error.message }] });
  if (error instanceof SendAtTooFarError) return new Problem(422, error.code, 'Send time too far ahead', `${error.message}; check its year, or raise HERALD_MAX_SEND_AHEAD_DAYS on the server`, { errors: [{ in: 'body', path: `${at}/sendAt`, message: error.message }] });
  if (error instanceof TemplateNotFoundError) return new Problem(422, error.code, 'Unknown template', error.message, { errors: [{ in: 'body', path: `${at}/template/id`, message: error.message }] });
  if (error instanceof TemplateChannelMissingError) return new Problem(422, error.code, 'Template lacks a channel', error.message, { errors: [{ in: 'body', path: `${at}/channels`, message: error.message }] });
  if (error instanceof TemplateRenderError) return renderProblem(error, `${at}/template/params`);
  if (error instanceof UnsubscribeLinkUnavailableError) return new Problem(422, error.code, 'No unsubscribe link for this email', error.message, { errors: [{ in: 'body', path: `${at}/${error.from}`, message: error.message }] });
  return undefined;
}

/** A template that cannot be rendered with the given parameters, pointing at them (`path` in the body), or at the one at fault. */
export function renderProblem(error: TemplateRenderError, path: string): Problem {
  const message = `template ${error.field}${error.locale ? ` (${error.locale})` : ''}: ${error.detail}`;
  const at = error.parameter ? `${path}/${error.parameter.map((k) => k.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}` : path;
  return new Problem(422, error.code, 'Template cannot be rendered', message, { errors: [{ in: 'body', path: at, message }] });
}

/**
 * A send that failed for some users after others were recorded: the problem its cause gets (the
 * client's: `sendErrorProblem`; ours: `ours`), with `accepted` listing what is known recorded, as a
 * 202 would have (a lower bound on EventStoreDB, which writes a user's streams one by one).
 */
export function partlySentProblem(error: PartlySentError, at: string, ours: (cause: unknown) => Problem): Problem {
  const base = sendErrorProblem(error.cause, at) ?? ours(error.cause);
  const users = new Set(error.accepted.map((n) => n.userId)).size;
  const n = error.accepted.length;
  const detail = `${base.detail ?? base.title} ${n} notification${n === 1 ? '' : 's'} for ${users} of the users ${n === 1 ? 'was' : 'were'} recorded before it, listed in accepted with ${n === 1 ? 'its' : 'their'} status (requested or scheduled ones will be delivered). Send the same request again with the same idempotency key, which records only what is missing; without one, leave the users listed out (on EventStoreDB a write that failed may still have been recorded, so a user not listed could get it twice).`;
  return new Problem(base.status, base.code, base.title, detail, { ...base.extra, accepted: error.accepted });
}

/**
 * A send (a batch item: `index`) that failed on our side: logged, and answered with the problem
 * a single send would get for the same cause.
 */
export function serverProblem(req: FastifyRequest, error: unknown, index?: number): Problem {
  const [it, logged] = index === undefined ? ['send', 'send'] : ['item', 'batch item'];
  if (error instanceof WrongExpectedRevisionError) {
    req.log.warn({ err: error, item: index }, `${logged} gave up on a contended stream`);
    return concurrentUpdateProblem();
  }
  if (error instanceof EventStoreUnavailableError) return new Problem(503, 'event_store_unavailable', 'Event store unavailable', `This ${it} was not recorded, or only for some of its users; send it again with the same idempotency key, which records only what is missing. Request id: ${req.id}.`);
  req.log.error({ err: error, item: index }, `${logged} failed`);
  return new Problem(500, 'internal_error', 'Internal error', `Something went wrong on our side with this ${it}; send it again later (with the same idempotency key). Request id: ${req.id}.`);
}
