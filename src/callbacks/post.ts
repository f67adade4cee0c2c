/**
 * One POST of a callback batch. Node's fetch (undici) keeps connections to each receiver alive
 * between calls. Redirects are not followed: the body was signed for this URL's owner.
 */
import { parseRetryAfter } from '../adapters/providers/retryAfter.ts';

export type PostResult =
  | { kind: 'delivered'; status: number }
  /** Worth another attempt: 408, 429, 5xx, a timeout or a connection error. */
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  /** Not worth another: the receiver refused it (another 4xx, a redirect). */
  | { kind: 'refused'; reason: string }
  /** Herald is stopping: the batch is handed back, not given up. */
  | { kind: 'stopped' };

export async function postCallback(url: string, body: string, headers: Record<string, string>, timeoutMs: number, stopping: AbortSignal): Promise<PostResult> {
  if (stopping.aborted) return { kind: 'stopped' };
  // One controller per POST, its listener and timer removed after: AbortSignal.any keeps a
  // reference from the long-lived `stopping` signal to every signal made from it (Node 20).
  const controller = new AbortController();
  const abort = () => controller.abort();
  stopping.addEventListener('abort', abort, { once: true });
  const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), timeoutMs);
  const signal = controller.signal;
  try {
    const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'user-agent': 'Herald-Callbacks/1', ...headers }, redirect: 'manual', signal });
    // Read to the end, so the connection goes back to the pool for the next callback.
    await res.arrayBuffer();
    if (res.status >= 200 && res.status < 300) return { kind: 'delivered', status: res.status };
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after') ?? undefined);
      return { kind: 'retry', reason: `receiver answered ${res.status}`, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    }
    return { kind: 'refused', reason: `receiver answered ${res.status}` };
  } catch (error) {
    if (stopping.aborted) return { kind: 'stopped' };
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const timedOut = (error as Error).name === 'TimeoutError' || (signal.reason as Error | undefined)?.name === 'TimeoutError';
    const reason = timedOut ? `no answer within ${timeoutMs} ms` : `connection failed${cause ? ` (${cause})` : ''}`;
    return { kind: 'retry', reason };
  } finally {
    clearTimeout(timer);
    stopping.removeEventListener('abort', abort);
  }
}
