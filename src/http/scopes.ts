import type { Scope } from '../domain/app.ts';

/**
 * Which scope a route needs, decided in one table from the method and the route pattern, so a new
 * route is protected the moment it is registered and no handler has to remember to check. The
 * first matching rule wins; a /v1 route no rule names needs admin (deny by default).
 */
interface Rule {
  /** A path prefix matched on whole segments: '/v1/apps' matches '/v1/apps' and '/v1/apps/:id'. */
  prefix: string;
  methods?: readonly string[];
  /** null: no app key; the route authenticates its caller itself (provider signatures). */
  scope: Scope | null;
}

const READ_METHODS = ['GET', 'HEAD'];
const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];

export const SCOPE_RULES: readonly Rule[] = [
  // Provider callbacks carry the provider's signature, verified in src/http/webhooks, not an app key.
  { prefix: '/v1/webhooks', methods: ['POST'], scope: null },
  { prefix: '/v1/apps', scope: 'admin' },
  { prefix: '/v1/dead-letters', scope: 'admin' },
  { prefix: '/v1/tracking', scope: 'admin' },
  { prefix: '/v1/notifications', methods: READ_METHODS, scope: 'read' },
  { prefix: '/v1/users', methods: READ_METHODS, scope: 'read' },
  { prefix: '/v1/analytics', methods: READ_METHODS, scope: 'read' },
  { prefix: '/v1/categories', methods: READ_METHODS, scope: 'read' },
  { prefix: '/v1/notifications', methods: WRITE_METHODS, scope: 'send' },
  // Clearing a bounce makes Herald send to an address a provider refused: an operator's call.
  { prefix: '/v1/users/:userId/opt-outs', methods: WRITE_METHODS, scope: 'admin' },
  { prefix: '/v1/users', methods: WRITE_METHODS, scope: 'send' },
  // Category settings apply to every app's sends, so changing them is an operator's job.
  { prefix: '/v1/categories', methods: WRITE_METHODS, scope: 'admin' },
  // Templates are shared by every app too: editing one changes what other apps' sends say.
  // A preview renders without writing anything: reading.
  { prefix: '/v1/templates/:templateId/preview', methods: ['POST'], scope: 'read' },
  { prefix: '/v1/templates', methods: READ_METHODS, scope: 'read' },
  { prefix: '/v1/templates', methods: WRITE_METHODS, scope: 'admin' },
];

const underPrefix = (url: string, prefix: string) => url === prefix || url.startsWith(`${prefix}/`);

/**
 * The scope a request needs, or null when it needs no app key: routes outside /v1 (health,
 * metrics, docs, tracking links) and provider webhooks, which have their own rules.
 */
export function requiredScope(method: string, routeUrl: string): Scope | null {
  if (!underPrefix(routeUrl, '/v1')) return null;
  const rule = SCOPE_RULES.find((r) => underPrefix(routeUrl, r.prefix) && (!r.methods || r.methods.includes(method)));
  return rule ? rule.scope : 'admin';
}

/** Whether the request must carry an app key: every /v1 URL except the keyless routes above. */
export function needsKey(method: string, url: string, routeUrl: string | undefined): boolean {
  if (routeUrl === undefined) return underPrefix(url.split('?')[0] ?? '', '/v1');
  return requiredScope(method, routeUrl) !== null;
}

/** admin implies the others: an operator's key must be able to do what it administers. */
export function allows(granted: readonly Scope[], needed: Scope): boolean {
  return granted.includes(needed) || granted.includes('admin');
}
