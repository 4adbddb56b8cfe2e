/**
 * The work both orchestration-tax benchmarks measure (bench/tax.ts for the ratio,
 * bench/tax-profile.ts for where the time goes): synthetic documents of 800 tokens, 64-chunk
 * batches, a 50 ms provider, 4 embed and 4 upsert slots, the adaptive splitter off so both sides
 * send one request per batch.
 */
export function taxScenario(smoke: boolean) {
  const concurrency = 4;
  return {
    latencyMs: 50,
    chunking: { chunkTokens: 256, overlapTokens: 32 },
    batching: { maxChunks: 64, maxTokens: 32_000 },
    concurrency,
    source: { kind: 'synthetic' as const, documents: smoke ? 120 : 1500, tokensPerDocument: 800, seed: 3 },
    workerConfig: { embedConcurrency: concurrency, upsertConcurrency: concurrency, adaptiveEmbed: 'off' as const },
  };
}
