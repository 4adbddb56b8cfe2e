/**
 * A stand-in for the workflow's `condition` in unit tests of the workflow's pure parts: resolves
 * once `fn()` is true, checking after each turn of the event loop; gives up (rejects) after
 * `maxTurns`, so a test waiting on something that never happens fails instead of hanging.
 */
export function waitUntil(fn: () => boolean, maxTurns = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let turns = 0;
    const check = () => {
      if (fn()) resolve();
      else if (++turns > maxTurns) reject(new Error('condition never became true'));
      else setImmediate(check);
    };
    check();
  });
}

/** A promise with its resolve and reject, for activities a test finishes by hand. */
export function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending callback and microtask run. */
export const settle = () => new Promise((r) => setImmediate(r));
