/**
 * The local embedder's inference thread (worker_threads): loads all-MiniLM-L6-v2 once with
 * transformers.js on onnxruntime-node's CPU binary, then embeds the texts it is sent, one request
 * at a time. Inference is CPU-bound for seconds; here it never blocks the worker process's event
 * loop, so activity heartbeats, polls and other activities keep running.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AutoModel, AutoTokenizer, env, mean_pooling, Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { planPasses } from './local-passes';

export interface LocalWorkerData {
  modelDir: string;
  modelName: string;
  maxInputTokens: number;
  /** onnxruntime intra-op threads (the cores this thread may use). */
  threads: number;
  /** Padded word pieces per forward pass (see planPasses). */
  passTokens: number;
}
export type LocalRequest = { id: number; texts: string[] };
export type LocalReply =
  | { type: 'ready' }
  | { type: 'load-error'; message: string }
  | { id: number; vectors: Float32Array; dimensions: number; tokens: number }
  | { id: number; error: string };

const data = workerData as LocalWorkerData;
const port = parentPort!;

type Model = { tokenizer: PreTrainedTokenizer; model: PreTrainedModel };
type Encoded = { input_ids: number[][]; attention_mask: number[][]; token_type_ids?: number[][] };

async function load(): Promise<Model> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = data.modelDir;
  const opts = { local_files_only: true } as const;
  const tokenizer = await AutoTokenizer.from_pretrained(data.modelName, opts);
  const model = await AutoModel.from_pretrained(data.modelName, {
    ...opts,
    dtype: 'q8',
    device: 'cpu',
    // onnxruntime's CPU memory arena stays on: without it every pass allocates its activations
    // afresh (mmap, page faults, munmap), which cost 25-60 % more CPU in a profile. The arena keeps
    // the largest pass's activations, which planPasses bounds by `passTokens`.
    session_options: { intraOpNumThreads: data.threads, interOpNumThreads: 1, executionMode: 'sequential', enableCpuMemArena: true },
  });
  return { tokenizer, model };
}

/** The texts of one pass as the model's inputs, padded on the right to the pass's longest. */
function batch(enc: Encoded, idx: number[], padId: number): Record<string, Tensor> {
  const width = Math.max(...idx.map((i) => enc.input_ids[i]!.length));
  const tensor = (rows: number[][], pad: number) => {
    const out = new BigInt64Array(idx.length * width).fill(BigInt(pad));
    idx.forEach((i, k) => rows[i]!.forEach((v, j) => (out[k * width + j] = BigInt(v))));
    return new Tensor('int64', out, [idx.length, width]);
  };
  return {
    input_ids: tensor(enc.input_ids, padId),
    attention_mask: tensor(enc.attention_mask, 0),
    ...(enc.token_type_ids && { token_type_ids: tensor(enc.token_type_ids, 0) }),
  };
}

async function embed(m: Model, texts: string[]): Promise<{ vectors: Float32Array; dimensions: number; tokens: number }> {
  // Each text is tokenized once; its length decides its pass, and the pass's tensors are built
  // from these ids (no second tokenization).
  const enc = m.tokenizer(texts, { padding: false, truncation: true, max_length: data.maxInputTokens, return_tensor: false }) as unknown as Encoded;
  const lengths = enc.input_ids.map((ids) => ids.length);
  const padId = Number(m.tokenizer.pad_token_id ?? 0);
  let vectors: Float32Array | undefined;
  let dimensions = 0;
  for (const idx of planPasses(lengths, data.passTokens)) {
    const inputs = batch(enc, idx, padId);
    const out = (await m.model(inputs)) as { last_hidden_state: Tensor };
    const pooled = mean_pooling(out.last_hidden_state, inputs.attention_mask!).normalize(2, -1);
    dimensions = pooled.dims[1]!;
    vectors ??= new Float32Array(texts.length * dimensions);
    const flat = pooled.data as Float32Array;
    idx.forEach((orig, k) => vectors!.set(flat.subarray(k * dimensions, (k + 1) * dimensions), orig * dimensions));
    for (const t of [out.last_hidden_state, pooled, ...Object.values(inputs)]) t.dispose?.();
  }
  const tokens = lengths.reduce((s, n) => s + n, 0);
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
