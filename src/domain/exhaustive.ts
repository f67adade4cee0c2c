/** The `default` of a `switch` over a union: a case left unhandled fails to compile, and throws if reached anyway. */
export function exhaustive(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
