/**
 * The local embedder's inference thread (worker_threads): loads all-MiniLM-L6-v2 once with
 * transformers.js on onnxruntime-node's CPU binary, then embeds the texts it is sent, one request
 * at a time. Inference is CPU-bound for seconds; here it never blocks the worker process's event
 * loop, so activity heartbeats, polls and other activities keep running.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AutoModel, AutoTokenizer, env, mean_pooling, type PreTrainedModel, type PreTrainedTokenizer, type Tensor } from '@huggingface/transformers';

export interface LocalWorkerData {
  modelDir: string;
  modelName: string;
  maxInputTokens: number;
  /** onnxruntime intra-op threads (the cores this thread may use). */
  threads: number;
  /** Texts per forward pass: a request is sorted by length and run in slices of this size. */
  microBatch: number;
}
export type LocalRequest = { id: number; texts: string[] };
export type LocalReply =
  | { type: 'ready' }
  | { type: 'load-error'; message: string }
  | { id: number; vectors: Float32Array; dimensions: number; tokens: number }
  | { id: number; error: string };

const data = workerData as LocalWorkerData;
const port = parentPort!;

async function load(): Promise<{ tokenizer: PreTrainedTokenizer; model: PreTrainedModel }> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = data.modelDir;
  const opts = { local_files_only: true } as const;
  const tokenizer = await AutoTokenizer.from_pretrained(data.modelName, opts);
  const model = await AutoModel.from_pretrained(data.modelName, {
    ...opts,
    dtype: 'q8',
    device: 'cpu',
    // No CPU memory arena: with it, onnxruntime keeps the peak of every pass's activations (a pass
    // of 32 texts of ~250 word pieces left the process at 1.6 GB; without it, 380 MB).
    session_options: { intraOpNumThreads: data.threads, interOpNumThreads: 1, executionMode: 'sequential', enableCpuMemArena: false },
  });
  return { tokenizer, model };
}

async function embed(m: { tokenizer: PreTrainedTokenizer; model: PreTrainedModel }, texts: string[]): Promise<{ vectors: Float32Array; dimensions: number; tokens: number }> {
  // Sorted by length so each forward pass pads its texts to about the same length.
  const order = texts.map((t, i) => [t.length, i] as const).sort((a, b) => a[0] - b[0]).map(([, i]) => i);
  let vectors: Float32Array | undefined;
  let dimensions = 0;
  let tokens = 0;
  for (let start = 0; start < order.length; start += data.microBatch) {
    const idx = order.slice(start, start + data.microBatch);
    const inputs = m.tokenizer(idx.map((i) => texts[i]!), { padding: true, truncation: true, max_length: data.maxInputTokens });
    const out = (await m.model(inputs)) as { last_hidden_state: Tensor };
    const mask = inputs.attention_mask as Tensor;
    const pooled = mean_pooling(out.last_hidden_state, mask).normalize(2, -1);
    dimensions = pooled.dims[1]!;
    vectors ??= new Float32Array(texts.length * dimensions);
    const flat = pooled.data as Float32Array;
    idx.forEach((orig, k) => vectors!.set(flat.subarray(k * dimensions, (k + 1) * dimensions), orig * dimensions));
    for (const v of mask.data as BigInt64Array) tokens += Number(v);
    for (const t of [out.last_hidden_state, pooled, mask, inputs.input_ids as Tensor]) t.dispose?.();
  }
  return { vectors: vectors ?? new Float32Array(0), dimensions, tokens };
}

load().then(
  (m) => {
    port.postMessage({ type: 'ready' } satisfies LocalReply);
    // One request at a time: onnxruntime already uses `threads` cores for one forward pass.
    let chain = Promise.resolve();
    port.on('message', (req: LocalRequest) => {
      chain = chain.then(async () => {
        try {
          const r = await embed(m, req.texts);
          port.postMessage({ id: req.id, ...r } satisfies LocalReply, [r.vectors.buffer as ArrayBuffer]);
        } catch (err) {
          port.postMessage({ id: req.id, error: (err as Error)?.message ?? String(err) } satisfies LocalReply);
        }
      });
    });
  },
  (err: unknown) => port.postMessage({ type: 'load-error', message: (err as Error)?.message ?? String(err) } satisfies LocalReply),
);
