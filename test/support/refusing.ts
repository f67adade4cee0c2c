/**
 * A real store (or any object) whose named methods fail while `refuses(method, args)` says so, as a
 * full disk or a store away makes them fail; every other call, and those methods otherwise, go through.
 */
export function refusing<T extends object>(target: T, refuses: (method: string, args: readonly unknown[]) => boolean, error: () => Error): T {
  return new Proxy(target, {
    get(object, key, receiver) {
      const value = Reflect.get(object, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => (typeof key === 'string' && refuses(key, args) ? Promise.reject(error()) : method.apply(object, args));
    },
  });
}
