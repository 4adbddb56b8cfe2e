import pg from 'pg';
import { embeddingPrice, type Config } from '../config';
import { createEmbedder } from '../embedders';
import { formatUsd } from '../embedders/pricing';
import { estimateRun, type RunEstimate } from '../estimate/estimate';
import { createSourceContext } from '../sources/context';
import { startServices } from '../stack';
import { StateStore } from '../state/store';
import type { IngestInput } from '../contracts/ingest';
import type { Logger } from '../log';
import { EXIT } from './common';
import { formatSkipped } from './progress';

/**
 * `ingest --dry-run`: what the run would embed and cost, computed here, in the CLI's process,
 * with the same planning code and the configured embedder's tokenizer, against the state store's
 * documents and embedding cache. No Temporal server, no workflow, no worker: nothing is embedded
 * and nothing is written. The source is read from this machine with this environment.
 */
export async function runDryRun(config: Config, log: Logger, input: IngestInput, json: boolean): Promise<number> {
  const services = await startServices(config, log, { needDatabase: true, needTemporal: false });
  try {
    const e = await estimateWithConfig(config, services.databaseUrl!, log, input);
    if (json) process.stdout.write(`${JSON.stringify(e)}\n`);
    else for (const line of formatEstimate(e)) process.stdout.write(`${line}\n`);
    return e.modelChange && !input.full ? EXIT.usage : EXIT.ok;
  } finally {
    await services.stop();
  }
}

/** The estimate with this configuration's embedder, price table, limits and sources, against the state store at `databaseUrl`. */
export async function estimateWithConfig(config: Config, databaseUrl: string, log: Logger, input: IngestInput): Promise<RunEstimate> {
  const embedder = await createEmbedder(config);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, connectionTimeoutMillis: 15_000, application_name: 'vector-ingest-dry-run' });
  pool.on('error', () => undefined);
  const sources = createSourceContext(config.dataDir);
  try {
    return await estimateRun(
      {
        store: new StateStore(pool),
        embedder,
        log,
        sources,
        price: embeddingPrice(config),
        limits: {
          maxDocumentBytes: config.maxDocumentBytes,
          maxPdfPages: config.maxPdfPages,
          maxUnzippedBytes: config.maxUnzippedBytes,
          maxCodeLineBytes: config.maxCodeLineBytes,
        },
      },
      input,
    );
  } finally {
    await sources.close();
    await embedder.close();
    await pool.end();
  }
}

export function formatEstimate(e: RunEstimate): string[] {
  const price =
    e.priceSource === 'unknown'
      ? `no price known for ${e.model}: set VECTOR_INGEST_PRICE_PER_MTOK`
      : `${formatUsd(e.pricePerMTok)} per 1M tokens${e.priceSource === 'setting' ? ' (from settings)' : e.priceSource === 'local' ? ' (runs locally)' : ''}`;
  return [
    `dry run of collection ${e.collection} (nothing embedded, nothing written)`,
    `documents: ${e.documentsListed} listed, ${e.documentsChanged} to chunk, ${e.documentsUnchanged} unchanged, ${e.documentsFailed} would fail`,
    `chunks:    ${e.chunks}, ${e.chunksCached} from the embedding cache, ${e.textsToEmbed} texts to embed`,
    `tokens:    ${e.tokensToEmbed} to embed with ${e.model}`,
    `cost:      ${formatUsd(e.costUsd)} estimated (${price})`,
    ...(formatSkipped(e) ? [`skipped:   ${formatSkipped(e)}`] : []),
    ...(e.modelChange ? [`note: the collection was built with ${e.modelChange.from}, this embedder is ${e.modelChange.to}: a run needs --full`] : []),
    ...(e.rebuildPending ? ['note: a rebuild into a new generation is under way or was interrupted: the next run re-chunks every document (unchanged texts come from the cache)'] : []),
  ];
}
