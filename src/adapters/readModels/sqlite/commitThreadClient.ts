/**
 * The caller's side of a read-model commit thread (see SqliteReadModelOptions.commitThread): hands
 * serialized commits to the thread in order and resolves each once it is written. The thread
 * starts with the store (it takes a few hundred milliseconds to load, meanwhile the caller
 * computes) and holds the process open only while a commit is in flight.
 */
import type { Worker } from 'node:worker_threads';
import { tsWorker } from '../../../tsWorker.ts';
import type { SerializedCommit } from './serializedCommit.ts';

export type ToCommitThread = { id: number; commit: SerializedCommit };
export type FromCommitThread = { id: number; error?: string };

export class CommitThreadError extends Error {
  readonly code = 'read_model_commit_failed';
}

export class CommitThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve(): void; reject(error: Error): void }>();
  private nextId = 1;
  /** Why the thread is gone, once it is: every later commit fails with it. */
  private failed: Error | undefined;
  /** Settles once every commit handed over so far has (the thread writes them in order). */
  private settled: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.worker = this.start(file);
  }

  /** Whether every commit handed over has been written. */
  get idle(): boolean {
    return this.waiting.size === 0;
  }

  commit(commit: SerializedCommit): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const worker = this.worker;
    const id = this.nextId++;
    let waiter: { resolve(): void; reject(error: Error): void } | undefined;
    const written = new Promise<void>((resolve, reject) => (waiter = { resolve, reject }));
    this.waiting.set(id, waiter!);
    if (this.waiting.size === 1) worker.ref();
    // Posted here, not in the promise's executor: a closure there would hold `commit` in this
    // call's context, which the `catch` below keeps until the thread has written it. The
    // documents' JSON then outlived two young-generation collections and was copied to the old
    // one: 270 MB of the 206k-event replay's promotions (2026-11-27).
    worker.postMessage({ id, commit } satisfies ToCommitThread);
    this.settled = written.catch(() => undefined);
    return written;
  }

  private start(file: string): Worker {
    const worker = tsWorker(new URL('./commitThread.ts', import.meta.url), { workerData: { file } });
    worker.unref();
    worker.on('message', ({ id, error }: FromCommitThread) => {
      const waiter = this.waiting.get(id);
      this.waiting.delete(id);
      if (this.waiting.size === 0) worker.unref();
      if (error === undefined) waiter?.resolve();
      else waiter?.reject(new CommitThreadError(`read-model commit failed on the commit thread: ${error}`));
    });
    const gone = (error: Error) => {
      this.failed ??= error;
      for (const waiter of this.waiting.values()) waiter.reject(this.failed);
      this.waiting.clear();
    };
    worker.on('error', (error) => gone(new CommitThreadError(`the read-model commit thread failed: ${error.message}`)));
    worker.on('exit', (code) => gone(new CommitThreadError(`the read-model commit thread exited (code ${code}) with commits in flight`)));
    return worker;
  }

  /** Waits for the commits in flight, then ends the thread. */
  async close(): Promise<void> {
    await this.settled;
    this.failed ??= new CommitThreadError('the read-model store is closed');
    await this.worker.terminate();
  }
}
