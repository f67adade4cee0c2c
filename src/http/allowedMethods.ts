/**
 * The methods a path has routes for, so that a request with another method is answered 405 with
 * `Allow` (RFC 9110) rather than the 404 fastify gives: `PATCH /v1/users/u-1` exists as a path,
 * only not for PATCH, and a client reading 404 looks for a typo in the path.
 */

/** Whether a concrete path matches a route pattern: `:name` takes one segment, a final `*` the rest. */
function matches(pattern: string, path: string): boolean {
  const want = pattern.split('/');
  const got = path.split('/');
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w === '*' && i === want.length - 1) return got.length >= want.length;
    const g = got[i];
    if (g === undefined) return false;
    if (w.startsWith(':') ? g === '' : w !== g) return false;
  }
  return got.length === want.length;
}

export function allowedMethods(routes: readonly { method: string; url: string }[], path: string): string[] {
  return [...new Set(routes.filter((r) => matches(r.url, path)).map((r) => r.method))].sort();
}
