/**
 * The async iterator every subscription adapter offers on top of `nextBatch`: one event at a time,
 * closing the subscription when the loop ends (break, return or throw).
 */
export async function* iterateBatches<T>(subscription: { nextBatch(max: number): Promise<T[]>; close(): Promise<void> }, size: number): AsyncGenerator<T> {
  try {
    for (;;) {
      const batch = await subscription.nextBatch(size);
      if (batch.length === 0) return;
      yield* batch;
    }
  } finally {
    await subscription.close();
  }
}
