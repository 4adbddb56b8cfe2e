/**
 * The embedding provider of a benchmark in a process of its own, as a real provider is: the
 * project's OpenAI-compatible server (src/testing/embedding-server.ts) run in a child process.
 * In the benchmark's own process its work (vectors, token counts, JSON: ~1 CPU-s per tax run)
 * ran on the main thread that both measured sides also need, and so slowed them by how busy
 * they kept that thread rather than by what they sent it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { EmbeddingServerOptions, EmbeddingServerStats } from '../src/testing/embedding-server';

/** Options that can cross a process boundary (no fault callback). */
export type ProviderOptions = Omit<EmbeddingServerOptions, 'fault'>;

type Request = { op: 'start'; options: ProviderOptions } | { op: 'stats' | 'reset' | 'close' };
export type ProviderMessage = Request & { id: number };

export interface ProviderProcess {
  url: string;
  pid: number;
  stats(): Promise<EmbeddingServerStats>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startProviderProcess(options: ProviderOptions): Promise<ProviderProcess> {
  // The parent's --import tsx reaches a forked child (it inherits execArgv).
  const child: ChildProcess = fork(path.join(__dirname, `provider-child${path.extname(__filename)}`), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, (reply: Record<string, unknown>) => void>();
  child.on('message', (m: { id: number }) => {
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  let nextId = 1;
  const ask = <T extends Record<string, unknown>>(m: Request): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => reject(new Error(`provider process: no answer to ${m.op} in 30 s`)), 30_000);
      waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r as T);
      });
      child.send({ ...m, id } as ProviderMessage);
    });
  const { url } = await ask<{ url: string }>({ op: 'start', options });
  return {
    url,
    pid: child.pid!,
    stats: async () => (await ask<{ stats: EmbeddingServerStats }>({ op: 'stats' })).stats,
    reset: async () => void (await ask({ op: 'reset' })),
    close: async () => {
      if (!child.connected) return;
      await ask({ op: 'close' }).catch(() => undefined);
      child.kill();
    },
  };
}
