import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running a .ts module, as this process does. Node 20 does not pass module hooks
 * (tsx's loader, however it was registered) on to worker threads: the thread registers tsx itself
 * before importing its entry.
 */
export function tsWorker(entry: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const script = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(script, { ...options, eval: true });
}
