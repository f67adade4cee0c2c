import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { maskContactsIn, maskedUrl } from '../mask.ts';
import { EventStoreUnavailableError, WrongExpectedRevisionError } from '../ports/eventStore.ts';
import { LogEvery } from '../logEvery.ts';

/** An RFC 9457 problem with a stable machine-readable `code`. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
  }
}

/**
 * Other processes kept changing the same stream through every retry: nothing was written. One
 * problem for a request and for a batch item (http/routes/notifications.ts) given up for that cause.
 */
export const concurrentUpdateProblem = (): Problem => new Problem(409, 'concurrent_update', 'Concurrent update', 'other requests changed the same record at the same moment and this one was not applied; send it again');

/** The problem as JSON; `instance` is where it happened (the request's path, masked as in the logs). */
export function problemBody(p: Problem, instance?: string): { type: string; title: string; status: number; code: string; detail?: string; [extra: string]: unknown } {
  return { type: `https://herald.dev/problems/${p.code}`, title: p.title, status: p.status, code: p.code, ...(p.detail ? { detail: p.detail } : {}), ...(instance ? { instance } : {}), ...p.extra };
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, p: Problem): FastifyReply {
  return reply.status(p.status).type('application/problem+json').send(problemBody(p, maskedUrl(request.url.split('?')[0] ?? '')));
}

/**
 * Requests Node's HTTP parser refuses before fastify sees them (a header line without a colon, a
 * bad Content-Length, Content-Length with chunked encoding, headers over 16 KB, a request that did
 * not arrive in time): problem details like every other error, then the connection is closed, as
 * Node and fastify's default (a JSON body of another shape) do.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, detail]: [number, string, string] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request_timeout', 'the whole request did not arrive in time (HERALD_REQUEST_TIMEOUT_MS); send it again']
      : error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'headers_too_large', 'the request line and headers are over 16 KB; send content in a JSON body']
        : [400, 'malformed_request', `the request is not valid HTTP/1.1 (${error.code ?? 'a parse error'}); check its request line and headers (Content-Length, Transfer-Encoding, a header line without a colon)`];
  const title = STATUS_CODES[status] ?? 'Bad request';
  const body = JSON.stringify(problemBody(new Problem(status, code, title, detail)));
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy(error);
}

/**
 * Errors the router raises before any route runs (fastify's `frameworkErrors`): a path whose
 * percent-encoding is broken, a path segment longer than the router takes. As problem details
 * like every other error, and without the path in the detail.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.code === 'FST_ERR_BAD_URL') return sendProblem(reply, request, new Problem(400, 'invalid_url', 'Bad request', 'the path has a malformed percent-encoding (a % must be followed by two hex digits); encode the value with encodeURIComponent'));
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendProblem(reply, request, new Problem(414, 'path_segment_too_long', 'URI too long', 'a segment of the path is longer than any id or token Herald takes'));
  request.log.error({ err: error }, 'request failed in the router');
  return sendProblem(reply, request, new Problem(500, 'internal_error', 'Internal error', `Something went wrong on our side; retry later. Request id: ${request.id}`));
}

/**
 * Turns every error into problem details; the internals of a 5xx never reach the client. One per
 * app (set on the root instance, which every route plugin inherits): its event-store outage line
 * comes once a minute for the whole app, not once per request or per plugin.
 */
export function createErrorHandler(): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  const outage = new LogEvery();
  return (error, request, reply) => handleError(error, request, reply, outage);
}

function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply, outage: LogEvery): FastifyReply {
  if (error instanceof Problem) return sendProblem(reply, request, error);
  if (hasZodFastifySchemaValidationErrors(error)) {
    // The path names record keys as sent (preferences' categories, push data), and a key may be an address.
    const errors = error.validation.map((v) => ({ in: error.validationContext ?? 'body', path: maskContactsIn(v.instancePath || '/'), message: maskContactsIn(v.message ?? 'invalid') }));
    return sendProblem(reply, request, new Problem(422, 'validation_failed', 'The request is not valid', errors.map((e) => `${e.in}${e.path}: ${e.message}`).join('; '), { errors }));
  }
  if ((error as Error) instanceof EventStoreUnavailableError) {
    // Nothing was promised: the client retries, and its idempotency key keeps the retry from doubling.
    const requests = outage.due();
    if (requests > 0) request.log.error({ err: error, requests }, 'event store unavailable: requests refused with 503 (this line once a minute while it lasts; requests counts them)');
    void reply.header('retry-after', '1');
    return sendProblem(reply, request, new Problem(503, 'event_store_unavailable', 'Event store unavailable', `The request was not recorded durably, or only in part (a send to several users); retry it (with the same idempotency key), which records only what is missing. Request id: ${request.id}`));
  }
  if ((error as Error) instanceof WrongExpectedRevisionError) {
    request.log.warn({ err: error }, 'gave up on a contended stream');
    void reply.header('retry-after', '1');
    return sendProblem(reply, request, concurrentUpdateProblem());
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = FRIENDLY_CODES[error.code] ?? (error.code ?? 'bad_request').toLowerCase().replace(/^fst_err_/, '');
    const detail = code === 'unsupported_media_type' ? unsupportedMediaType(request) : maskContactsIn(error.message);
    return sendProblem(reply, request, new Problem(status, code, clientTitle(status), detail));
  }
  request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, request, new Problem(500, 'internal_error', 'Internal error', `Something went wrong on our side; retry later. Request id: ${request.id}`));
}

const FRIENDLY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
};

/** What a 415 says: the type that came and the one to send (fastify's own message names neither). */
function unsupportedMediaType(request: FastifyRequest): string {
  const given = request.headers['content-type'];
  const came = given ? `Content-Type ${given.split(';')[0]!.trim().slice(0, 100)} is not accepted here` : 'a body without a Content-Type is not accepted here';
  return `${maskContactsIn(came)}; send the body as JSON with Content-Type: application/json`;
}

function clientTitle(status: number): string {
  const titles: Record<number, string> = { 400: 'Bad request', 404: 'Not found', 405: 'Method not allowed', 413: 'Payload too large', 415: 'Unsupported media type', 429: 'Too many requests' };
  return titles[status] ?? 'Request rejected';
}
