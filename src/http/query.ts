import { z } from 'zod';

/**
 * A route's query string: its parameters and nothing else. An unknown one is a 422 naming it and
 * the ones the route takes, because a misspelt filter (`stauts=failed`, `timezone=` for `tz=`)
 * would otherwise be ignored and the answer look right while covering everything.
 */
export function queryParams<S extends z.core.$ZodLooseShape>(shape: S) {
  const takes = Object.keys(shape).join(', ');
  const named = (key: string) => `"${key.length > 64 ? `${key.slice(0, 64)}…` : key}"`;
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown query parameter${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map(named).join(', ')}; this route takes ${takes}` : undefined),
  });
}

/**
 * A whole number in a query string, in decimal digits. `z.coerce.number()` took `0x10` as 16, `1e2`
 * as 100 and an empty value as 0: a client's mistake answered as if it had asked for that.
 */
export const queryInt = (min: number, max: number) =>
  z.string().regex(/^\d{1,15}$/, 'a whole number in decimal digits').transform(Number).pipe(z.number().int().min(min).max(max));
