/**
 * The local embedder (all-MiniLM-L6-v2, int8, onnxruntime-node CPU) on the fixture corpus, beside
 * bare transformers.js feature-extraction pipeline loops on the same texts, all on ONE intra-op
 * thread, order rotated each round, median of the rounds:
 *   - ours: LocalEmbedder in requests of 128 (the ingest's batch), its inference thread cutting
 *     each request into length-sorted passes of at most PASS_TOKENS padded word pieces;
 *   - bare ×32: the pipeline called with 32 texts at a time, in corpus order, onnxruntime defaults;
 *   - bare ×1: the pipeline called with one text at a time (no padding at all).
 * For each: texts/s of wall time, CPU seconds per text (the process's CPU time while only that
 * side runs: steadier than wall time on a shared machine), and the longest event-loop stall.
 * RSS: with the model loaded, and after our side ran every round, measured before the bare
 * pipeline loads (it shares the process); then after everything ran.
 * The texts are the corpus's chunks as the planning activity cuts them for this model
 * (254 word pieces at most, counted by its own tokenizer).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { fitChunking } from '../src/activities/chunk-limit';
import { DEFAULT_CHUNKING } from '../src/contracts/ingest';
import { LocalEmbedder, PASS_TOKENS } from '../src/embedders/local';
import { defaultModelDir, LOCAL_MODEL } from '../src/embedders/local-model';
import { createLogger } from '../src/log';
import { chunkText } from '../src/text/chunker';
import { decodeUtf8, extractText, formatOf } from '../src/text/extract';
import { buildCorpus } from '../test/support/corpus';
import { tempDir } from '../test/support/env';
import { median, report, rssMb } from './lib';

const BATCH = 128; // the ingest's default batch: one embedBatch activity's request
/**
 * The batched bare loop's call size. A bare call of 128 texts of ~250 word pieces makes
 * onnxruntime hold attention tensors of 128×12×256×256 floats per layer: the process grew past
 * 7 GB in a trial run.
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

type Run = { rate: number; cpuPerText: number; maxStallMs: number };

/** Runs `work` over the texts; its texts/s, CPU seconds per text and the longest gap between 10 ms timer ticks meanwhile. */
async function timed(texts: string[], size: number, work: (batch: string[]) => Promise<unknown>): Promise<Run> {
  let last = performance.now();
  let maxStall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxStall = Math.max(maxStall, now - last - 10);
    last = now;
  }, 10);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < texts.length; i += size) await work(texts.slice(i, i + size));
  const end = performance.now();
  const cpu = process.cpuUsage(cpu0);
  clearInterval(timer);
  maxStall = Math.max(maxStall, end - last - 10); // a stall at the very end has no tick after it
  const seconds = (end - t0) / 1000;
  return { rate: texts.length / seconds, cpuPerText: (cpu.user + cpu.system) / 1e6 / texts.length, maxStallMs: Math.round(maxStall) };
}

/** Round r runs the sides starting from side r mod n: each side goes first, middle and last alike. */
async function rotating(round: number, sides: Array<() => Promise<Run>>): Promise<Run[]> {
  const out: Run[] = new Array(sides.length);
  for (let k = 0; k < sides.length; k++) {
    const i = (round + k) % sides.length;
    out[i] = await sides[i]!();
  }
  return out;
}

export async function local(smoke: boolean): Promise<void> {
  const modelDir = process.env.VECTOR_INGEST_MODEL_DIR ?? defaultModelDir();
  const before = rssMb();
  const ours = await LocalEmbedder.create({ modelDir, threads: 1 });
  await ours.embed(['warm-up']);
  const rssLoaded = rssMb();
  const texts = corpusChunks(ours, smoke ? 16 : 128);
  const avgPieces = texts.reduce((s, t) => s + ours.tokenizer.count(t), 0) / texts.length;
  const rounds = smoke ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);
  const runOurs = () => timed(texts, BATCH, (batch) => ours.embed(batch));
  // Our side once alone (warm-up, and the memory a worker carries once it has embedded them), then
  // the side-by-side rounds.
  await runOurs();
  const rssOurs = rssMb();

  env.allowRemoteModels = false;
  env.localModelPath = modelDir;
  const bare = await pipeline('feature-extraction', LOCAL_MODEL, { dtype: 'q8', session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 } });
  const bareLoop = (size: number) => () => timed(texts, size, (batch) => bare(batch, { pooling: 'mean', normalize: true }));
  await bare(texts.slice(0, 8), { pooling: 'mean', normalize: true });

  const names = ['LocalEmbedder (worker thread)', `bare pipeline, calls of ${BARE_CALL}`, 'bare pipeline, calls of 1'];
  const runs: Run[][] = names.map(() => []);
  for (let r = 1; r <= rounds; r++) {
    const got = await rotating(r, [runOurs, bareLoop(BARE_CALL), bareLoop(1)]);
    got.forEach((x, i) => runs[i]!.push(x));
  }
  const rssAfter = rssMb();
  await ours.close();
  await bare.dispose();
  const rate = runs.map((xs) => median(xs.map((x) => x.rate)));
  const cpu = runs.map((xs) => median(xs.map((x) => x.cpuPerText)));
  report(
    'local',
    names.map((side, i) => ({
      side,
      'texts/s per core': rate[i],
      'CPU s per text': cpu[i],
      'max event-loop stall ms': Math.max(...runs[i]!.map((x) => x.maxStallMs)),
      'runs (texts/s)': runs[i]!.map((x) => x.rate.toFixed(2)).join(' '),
    })),
    [
      `ours ÷ bare×${BARE_CALL}: ${(rate[0]! / rate[1]!).toFixed(2)} by texts/s, ${(cpu[1]! / cpu[0]!).toFixed(2)} by CPU per text; ` +
        `ours ÷ bare×1: ${(rate[0]! / rate[2]!).toFixed(2)} by texts/s, ${(cpu[2]! / cpu[0]!).toFixed(2)} by CPU per text ` +
        `(medians of ${rounds} rounds, order rotated); ${texts.length} chunks of the fixture corpus, ${avgPieces.toFixed(0)} word pieces on average; ` +
        `ours in requests of ${BATCH} (passes of at most ${PASS_TOKENS} padded word pieces); 1 intra-op thread each.`,
      `RSS: ${before} MB before loading; ${rssLoaded} MB with our model loaded; ${rssOurs} MB after our side embedded them ` +
        `(before the bare pipeline loaded); ${rssAfter} MB after the bare loops ran too.`,
    ],
  );
}
