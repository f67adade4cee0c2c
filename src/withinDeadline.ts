/**
 * The call's value, or undefined once `ms` have passed; the call is then left to whoever can end
 * it (a provider call, a thread's answer to its stop). A call that fails rejects as it would.
 */
export async function withinDeadline<T>(ms: number, call: Promise<T>): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([call.then((value) => ({ value })), expired]);
  } finally {
    clearTimeout(timer);
  }
}
