import * as path from 'node:path';
import type { SourceContext } from './types';

export interface ClosableSourceContext extends SourceContext {
  /** Closes every shared client; call after the workers have drained. */
  close(): Promise<void>;
}

/** The sources' view of one worker process: built once in src/deps.ts, closed with the other clients. */
export function createSourceContext(dataDir: string, env: Readonly<Record<string, string | undefined>> = process.env): ClosableSourceContext {
  const clients = new Map<string, { client: unknown; close: (c: unknown) => Promise<void> | void }>();
  return {
    dataDir: path.resolve(dataDir),
    env,
    shared<T>(key: string, create: () => T, close: (client: T) => Promise<void> | void): T {
      const hit = clients.get(key);
      if (hit) return hit.client as T;
      const client = create();
      clients.set(key, { client, close: close as (c: unknown) => Promise<void> | void });
      return client;
    },
    async close() {
      const all = [...clients.values()];
      clients.clear();
      for (const c of all) await Promise.resolve(c.close(c.client)).catch(() => undefined);
    },
  };
}

let fallback: ClosableSourceContext | undefined;

/** For code outside a worker (benchmarks, the CLI's own listing): this process's env and ./.vector-ingest. */
export function processSourceContext(): ClosableSourceContext {
  fallback ??= createSourceContext(process.env.VECTOR_INGEST_DATA_DIR ?? '.vector-ingest');
  return fallback;
}
