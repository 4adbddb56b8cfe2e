import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { ProviderError } from '../errors';
import { spawnThread } from '../threads';
import type { TextTokenizer } from '../text/tokenizer';
import { LOCAL_DIMENSIONS, LOCAL_MAX_INPUT_TOKENS, LOCAL_MODEL, localModelName, localModelPath } from './local-model';
import { wordPieceTokenizer } from './local-tokenizer';
import type { LocalReply, LocalRequest, LocalWorkerData } from './local-worker';
import type { Embedder, EmbeddingResult } from './types';

export interface LocalEmbedderOptions {
  /** The folder holding all-MiniLM-L6-v2/ (scripts/infra/install-model.sh lays it out). */
  modelDir: string;
  /** onnxruntime intra-op threads; default: the machine's cores. */
  threads?: number;
  /** Padded word pieces per forward pass (default PASS_TOKENS): bounds the activations onnxruntime keeps. */
  passTokens?: number;
}

/** The inference thread runs local-worker.js (or .ts under tsx) next to this file. */
function spawnInferenceThread(data: LocalWorkerData): Worker {
  return spawnThread(path.join(__dirname, 'local-worker'), path.extname(__filename), data);
}

/**
 * Padded word pieces per forward pass: two of the longest chunks (254 + [CLS] + [SEP]), or eight
 * of 64. In a profile on 64 fixture chunks, one thread (BENCHMARKS.md, section 7), budgets of
 * 256 to 2048 cost about the same CPU per text (within the machine's noise) and passes of 16 or
 * 32 long texts a third more; the memory onnxruntime keeps grows with the largest pass, which at
 * 512 holds attention scores of 2 × 12 × 256² floats per layer (6 MB).
 */
export const PASS_TOKENS = 512;

type Pending = { resolve: (r: EmbeddingResult) => void; reject: (e: Error) => void };

/**
 * all-MiniLM-L6-v2 in-process: 384 dimensions, mean pooling, normalised, on onnxruntime-node's
 * CPU binary through transformers.js, with no network (remote models off, a local folder).
 * Inference runs in one worker thread loaded once per worker process and kept until close(); the
 * calling thread only posts texts and receives vectors, so its event loop stays free. Requests
 * queue in that thread one at a time; the thread uses `threads` cores per request and cuts it
 * into length-sorted passes of at most `passTokens` padded word pieces.
 */
export class LocalEmbedder implements Embedder {
  readonly dimensions = LOCAL_DIMENSIONS;
  readonly semantic = true;
  readonly maxInputTokens = LOCAL_MAX_INPUT_TOKENS;
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  private constructor(
    readonly model: string,
    readonly tokenizer: TextTokenizer,
    private readonly data: LocalWorkerData,
  ) {}

  /** Checks the model files (a ConfigError naming the install command if any is missing) and starts loading. */
  static async create(o: LocalEmbedderOptions): Promise<LocalEmbedder> {
    const modelPath = localModelPath(o.modelDir);
    const model = await localModelName(modelPath);
    const e = new LocalEmbedder(model, wordPieceTokenizer(modelPath, LOCAL_MODEL), {
      modelDir: o.modelDir,
      modelName: LOCAL_MODEL,
      maxInputTokens: LOCAL_MAX_INPUT_TOKENS,
      threads: Math.max(1, o.threads ?? availableParallelism()),
      passTokens: Math.max(1, o.passTokens ?? PASS_TOKENS),
    });
    e.start();
    return e;
  }

  /** Resolves once the model is loaded (embed waits for it too). */
  async loaded(): Promise<void> {
    await this.start();
  }

  async embed(texts: string[]): Promise<EmbeddingResult> {
    if (this.closed) throw new ProviderError('ProviderUnavailable', 'the local embedder is closed', true);
    if (texts.length === 0) return { vectors: [], tokens: 0 };
    await this.start();
    const id = this.nextId++;
    return new Promise<EmbeddingResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ id, texts } satisfies LocalRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (w) await w.terminate();
    this.failAll(new ProviderError('ProviderUnavailable', 'the local embedder was closed', true));
  }

  /** The inference thread's id, for tests that watch it. */
  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = spawnInferenceThread(this.data);
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: LocalReply) => {
        if ('type' in m) {
          if (m.type === 'ready') resolve();
          else {
            const err = new ProviderError('ModelNotFound', `cannot load the local model ${this.model}: ${m.message}`, false);
            reject(err);
            this.failAll(err);
          }
          return;
        }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if ('error' in m) {
          p.reject(new ProviderError('InvalidInput', `local model ${this.model}: ${m.error}`, false));
          return;
        }
        const n = m.vectors.length / m.dimensions;
        const vectors: number[][] = new Array(n);
        for (let i = 0; i < n; i++) vectors[i] = Array.from(m.vectors.subarray(i * m.dimensions, (i + 1) * m.dimensions));
        p.resolve({ vectors, tokens: m.tokens });
      });
      // A crashed thread fails what it held (retryable) and the next embed starts a new one.
      const lost = (why: string) => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.ready = undefined;
        const err = new ProviderError('ProviderUnavailable', `the local model's inference thread ${why}`, true);
        reject(err);
        this.failAll(err);
      };
      worker.on('error', (err) => lost(`failed: ${err.message}`));
      worker.on('exit', (code) => lost(`exited with code ${code}`));
    });
    this.ready.catch(() => undefined); // awaited by embed; a load failure is reported there
    return this.ready;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
