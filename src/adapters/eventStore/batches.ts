/**
 * The async iterator every subscription adapter offers on top of `nextBatch`: one event at a time,
 * closing the subscription when the loop leaves early (break, return or throw). A loop that ends
 * because the subscription gives no more (closed, or a persistent consumer told to stop taking)
 * leaves it as it is: a stopping consumer still acks what it holds, then closes.
 */
export async function* iterateBatches<T>(subscription: { nextBatch(max: number): Promise<T[]>; close(): Promise<void> }, size: number): AsyncGenerator<T> {
  let ended = false;
  try {
    for (;;) {
      const batch = await subscription.nextBatch(size);
      if (batch.length === 0) {
        ended = true;
        return;
      }
      yield* batch;
    }
  } finally {
    if (!ended) await subscription.close();
  }
}
