import { BroadcastChannel } from 'node:worker_threads';
import { realpathSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

/** What one store instance may ask the instance that runs a persistent subscription group. */
export type GroupCall = { method: 'info' | 'replayParked'; group: string };

type Message =
  | { kind: 'committed'; types: readonly string[] }
  | { kind: 'call'; id: string; call: GroupCall }
  | { kind: 'reply'; id: string; ok: true; value: unknown }
  | { kind: 'reply'; id: string; ok: false; error: string };

/** No instance in this process answered for the group. */
export class GroupNotRunningError extends Error {
  constructor(readonly group: string) {
    super(`persistent subscription group ${group} is not running in this process: start the delivery workers (role all) first`);
  }
}

/**
 * Links every SqliteEventStore instance on one database file within a process (the API on the
 * main thread, delivery and projections on a worker thread): a commit by one wakes the others'
 * subscriptions, and calls about a persistent subscription group reach the instance that holds
 * the group's in-memory state. A BroadcastChannel never delivers to its own sender.
 */
export class ThreadLink {
  private readonly channel: BroadcastChannel;
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private closed = false;

  constructor(
    file: string,
    private readonly handlers: {
      /** Another instance committed events of these types. */
      committed(types: readonly string[]): void;
      /** Answers a call for a group this instance holds; undefined when it does not hold it. */
      answer(call: GroupCall): Promise<unknown> | undefined;
    },
  ) {
    this.channel = new BroadcastChannel(`herald-sqlite-events:${canonical(file)}`);
    // Stays referenced until close(): a subscriber waiting for another thread's commit must keep its thread alive.
    this.channel.onmessage = (event) => this.receive((event as { data: Message }).data);
  }

  committed(types: readonly string[]): void {
    this.post({ kind: 'committed', types });
  }

  /**
   * A closed channel throws on postMessage. Work that ends after close (a commit, an answer to
   * a call) has no one left to tell in this store, so its message is dropped instead: throwing
   * there was an uncaught exception in whatever promise finished last during a shutdown.
   */
  private post(message: Message): void {
    if (!this.closed) this.channel.postMessage(message);
  }

  /** Asks whichever linked instance holds the group; rejects with GroupNotRunningError after `timeoutMs`. */
  call(call: GroupCall, timeoutMs = 2000): Promise<unknown> {
    const id = randomUUID();
    if (this.closed) return Promise.reject(new Error('event store closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GroupNotRunningError(call.group));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.post({ kind: 'call', id, call });
    });
  }

  private receive(message: Message): void {
    if (message.kind === 'committed') return this.handlers.committed(message.types);
    if (message.kind === 'call') {
      const answer = this.handlers.answer(message.call);
      if (!answer) return;
      answer.then(
        (value) => this.post({ kind: 'reply', id: message.id, ok: true, value }),
        (error: unknown) => this.post({ kind: 'reply', id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    clearTimeout(waiting.timer);
    if (message.ok) waiting.resolve(message.value);
    else waiting.reject(new Error(message.error));
  }

  close(): void {
    this.closed = true;
    for (const { timer, reject } of this.pending.values()) {
      clearTimeout(timer);
      reject(new Error('event store closed'));
    }
    this.pending.clear();
    this.channel.close();
  }
}

/** One channel per database file, however the path was spelled. */
function canonical(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
