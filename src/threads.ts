import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running `file` (a module path without its extension, next to the
 * caller): the compiled .js in a build, the .ts under tsx (tests, benchmarks), where the thread
 * registers tsx itself, as --import hooks do not reach worker threads on Node 20.
 */
export function spawnThread(fileWithoutExt: string, ext: string, workerData?: unknown): Worker {
  const file = `${fileWithoutExt}${ext}`;
  if (ext !== '.ts') return new Worker(file, { workerData });
  const boot = `require('tsx/cjs/api').register(); require(${JSON.stringify(file)});`;
  return new Worker(boot, { eval: true, workerData });
}
