/**
 * The local embedder (all-MiniLM-L6-v2, int8, onnxruntime-node CPU) on the fixture corpus:
 *   - texts/s per core: our LocalEmbedder (worker thread, length-sorted passes of 32) and a bare
 *     transformers.js feature-extraction pipeline loop on the same texts, both on ONE intra-op
 *     thread, alternating order, median of 3;
 *   - the process's RSS with the model loaded (our wrapper only, before the bare pipeline loads);
 *   - the longest event-loop stall during each side's run (the wrapper's inference is off-thread).
 * The texts are the corpus's chunks as the planning activity cuts them for this model
 * (254 word pieces at most, counted by its own tokenizer).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { fitChunking } from '../src/activities/chunk-limit';
import { DEFAULT_CHUNKING } from '../src/contracts/ingest';
import { LocalEmbedder } from '../src/embedders/local';
import { defaultModelDir, LOCAL_MODEL } from '../src/embedders/local-model';
import { createLogger } from '../src/log';
import { chunkText } from '../src/text/chunker';
import { decodeUtf8, extractText, formatOf } from '../src/text/extract';
import { buildCorpus } from '../test/support/corpus';
import { tempDir } from '../test/support/env';
import { alternating, median, report, rssMb } from './lib';

const BATCH = 128; // the ingest's default batch: one embedBatch activity's request
/**
 * The bare loop's call size: the same forward-pass size as the wrapper's (it cuts a request into
 * passes of 32). A bare call of 128 texts of ~250 word pieces makes onnxruntime hold attention
 * tensors of 128×12×256×256 floats per layer: the process grew past 7 GB in a trial run.
 */
const BARE_CALL = 32;

function corpusChunks(e: LocalEmbedder, n: number): string[] {
  const root = tempDir('vi-bench-local-');
  const chunking = fitChunking(DEFAULT_CHUNKING, e, createLogger('silent', { pretty: false }));
  const out: string[] = [];
  for (const id of buildCorpus(root, { files: 220, largeFiles: 3 })) {
    const text = extractText(id, decodeUtf8(id, readFileSync(path.join(root, id))), formatOf(id)!);
    for (const c of chunkText(text, chunking, e.tokenizer)) out.push(c.text);
  }
  // Every document's chunks, spread: take every k-th so small and large documents both count.
  const step = Math.max(1, Math.floor(out.length / n));
  return out.filter((_, i) => i % step === 0).slice(0, n);
}

/** Runs `work` and reports its texts/s and the longest gap between 10 ms timer ticks meanwhile. */
async function timed(texts: string[], size: number, work: (batch: string[]) => Promise<unknown>): Promise<{ rate: number; maxStallMs: number }> {
  let last = performance.now();
  let maxStall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxStall = Math.max(maxStall, now - last - 10);
    last = now;
  }, 10);
  const t0 = performance.now();
  for (let i = 0; i < texts.length; i += size) await work(texts.slice(i, i + size));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  return { rate: texts.length / seconds, maxStallMs: Math.round(maxStall) };
}

export async function local(smoke: boolean): Promise<void> {
  const modelDir = process.env.VECTOR_INGEST_MODEL_DIR ?? defaultModelDir();
  const before = rssMb();
  const ours = await LocalEmbedder.create({ modelDir, threads: 1 });
  await ours.embed(['warm-up']);
  const texts = corpusChunks(ours, smoke ? 16 : 128);
  await ours.embed(texts.slice(0, 8));
  const rssLoaded = rssMb();
  const avgPieces = texts.reduce((s, t) => s + ours.tokenizer.count(t), 0) / texts.length;

  env.allowRemoteModels = false;
  env.localModelPath = modelDir;
  const bare = await pipeline('feature-extraction', LOCAL_MODEL, { dtype: 'q8', session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 } });
  await bare(texts.slice(0, 8), { pooling: 'mean', normalize: true });

  const rounds = smoke ? 1 : 3;
  const oursRuns: Array<{ rate: number; maxStallMs: number }> = [];
  const bareRuns: Array<{ rate: number; maxStallMs: number }> = [];
  for (let r = 1; r <= rounds; r++) {
    const [o, b] = await alternating(
      r,
      () => timed(texts, BATCH, (batch) => ours.embed(batch)),
      () => timed(texts, BARE_CALL, (batch) => bare(batch, { pooling: 'mean', normalize: true })),
    );
    oursRuns.push(o);
    bareRuns.push(b);
  }
  const rssAfter = rssMb();
  await ours.close();
  await bare.dispose();
  const oursRate = median(oursRuns.map((x) => x.rate));
  const bareRate = median(bareRuns.map((x) => x.rate));
  report(
    'local',
    [
      { side: 'LocalEmbedder (worker thread)', 'texts/s per core': oursRate, 'max event-loop stall ms': Math.max(...oursRuns.map((x) => x.maxStallMs)), runs: oursRuns.map((x) => x.rate.toFixed(2)).join(' ') },
      { side: 'bare transformers.js pipeline', 'texts/s per core': bareRate, 'max event-loop stall ms': Math.max(...bareRuns.map((x) => x.maxStallMs)), runs: bareRuns.map((x) => x.rate.toFixed(2)).join(' ') },
    ],
    [
      `ours ÷ bare: ${(oursRate / bareRate).toFixed(2)} (median of ${rounds}, alternating order); ${texts.length} chunks of the fixture corpus, ` +
        `${avgPieces.toFixed(0)} word pieces on average; ours in requests of ${BATCH} (cut into passes of 32), bare in calls of ${BARE_CALL}; 1 intra-op thread each.`,
      `RSS with the model loaded (our wrapper, one inference thread): ${rssLoaded} MB (${rssLoaded - before} MB over the ${before} MB before loading); ` +
        `after both sides ran: ${rssAfter} MB.`,
    ],
  );
}
