import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { DocumentError, type DocumentErrorType } from '../errors';
import { spawnThread } from '../threads';
import { plannedChunks, type ChunkJob, type PlannedChunk } from './chunk-job';
import type { ChunkReply, ChunkRequest } from './chunk-thread';
import type { TextTokenizer } from './tokenizer';

/**
 * A chunking thread's V8 heap. Without limits a thread sizes its heap from the machine's memory
 * (a ~4 GB old-space limit on 24 GB, so it collects late, and 16 MB semi-spaces): through a 10k-chunk
 * scale run one thread's heap reached 80 MB (32 MB of it young generation) for ~25 MB in use. With
 * these it peaked at 32 MB at the same worker CPU (BENCHMARKS.md §4b). 512 MB of old space is
 * what the Docker image gives the whole process, and plans a 20 MB markdown document (the
 * default VECTOR_INGEST_MAX_DOCUMENT_BYTES); a thread that runs out of it dies alone and what it
 * held is retried, where the worker process would have crashed. Process-wide --max-old-space-size
 * / --max-semi-space-size (NODE_OPTIONS) take precedence over these.
 */
export const CHUNK_THREAD_LIMITS = { maxYoungGenerationSizeMb: 6, maxOldGenerationSizeMb: 512 } as const;

type Pending = { resolve: (c: PlannedChunk[]) => void; reject: (e: Error) => void };
type Thread = { worker: Worker; pending: Map<number, Pending> };

/**
 * Chunks documents on worker threads, so that planning (extraction, tokenizing, hashing: the
 * planning activity's CPU, ~0.7 s per page of 200 documents) neither holds the worker's main
 * thread, where batch activities, database replies and workflow activations arrive, nor waits
 * for it. A document goes to the thread with the fewest outstanding; each thread works through
 * its queue in order. A thread that dies fails what it held with a plain (retryable) error and
 * is replaced by the next call; a DocumentError comes back as one. With 0 threads, or a
 * tokenizer no thread can rebuild (it has no `spec`), documents are chunked inline.
 */
export class ChunkThreads {
  private readonly threads: Array<Thread | undefined>;
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {
    this.threads = new Array<Thread | undefined>(Math.max(0, size)).fill(undefined);
  }

  async chunk(job: ChunkJob, tokenizer: TextTokenizer, progress?: () => void): Promise<PlannedChunk[]> {
    if (this.threads.length === 0 || !tokenizer.spec || this.closed) return plannedChunks(job, tokenizer, progress);
    const t = this.least();
    const id = this.nextId++;
    // A copy of exactly the document's bytes, handed over (a Buffer may view a larger pool).
    const bytes = new Uint8Array(job.bytes);
    return new Promise<PlannedChunk[]>((resolve, reject) => {
      t.pending.set(id, { resolve, reject });
      t.worker.ref(); // an outstanding document keeps the process alive
      t.worker.postMessage({ id, job: { ...job, bytes }, tokenizer: tokenizer.spec! } satisfies ChunkRequest, [bytes.buffer]);
    });
  }

  /**
   * Starts the threads now rather than on the first document: a thread loads its modules (the
   * formats, the tokenizer) in ~0.5 s, which the first page of the first run would otherwise wait.
   */
  warm(): this {
    for (let i = 0; i < this.threads.length; i++) if (!this.threads[i] && !this.closed) this.start(i);
    return this;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = this.threads.splice(0).filter((t): t is Thread => t !== undefined);
    await Promise.all(all.map((t) => t.worker.terminate()));
    for (const t of all) fail(t, new Error('the chunking threads were closed'));
  }

  /** The live thread with the fewest outstanding documents; a missing one is started. */
  private least(): Thread {
    let best = -1;
    for (let i = 0; i < this.threads.length; i++) {
      const t = this.threads[i];
      if (!t) return this.start(i);
      if (best < 0 || t.pending.size < this.threads[best]!.pending.size) best = i;
    }
    return this.threads[best]!;
  }

  private start(i: number): Thread {
    const worker = spawnThread(path.join(__dirname, 'chunk-thread'), path.extname(__filename), undefined, CHUNK_THREAD_LIMITS);
    const t: Thread = { worker, pending: new Map() };
    this.threads[i] = t;
    worker.unref();
    worker.on('message', (m: ChunkReply) => {
      const p = t.pending.get(m.id);
      if (!p) return;
      t.pending.delete(m.id);
      if (t.pending.size === 0) worker.unref();
      if ('chunks' in m) p.resolve(m.chunks);
      else if (m.error.document) p.reject(new DocumentError(m.error.type as DocumentErrorType, m.error.message));
      else p.reject(new Error(`chunking failed on a worker thread: ${m.error.type}: ${m.error.message}`));
    });
    const lost = (why: string) => {
      if (this.threads[i] === t) this.threads[i] = undefined;
      fail(t, new Error(`a chunking thread ${why}`));
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    return t;
  }
}

function fail(t: Thread, err: Error): void {
  for (const p of t.pending.values()) p.reject(err);
  t.pending.clear();
}
