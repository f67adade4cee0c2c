import { AlreadyExpiredError, IdempotencyKeyReusedError, SendAtTooFarError, TemplateChannelMissingError, TemplateNotFoundError } from '../commands/sendErrors.ts';
import { TemplateRenderError } from '../templates/render.ts';
import { UnsubscribeLinkUnavailableError } from '../domain/unsubscribeTag.ts';
import { Problem } from './problem.ts';

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
