import type { IngestCounters, IngestProgress } from '../contracts/ingest';
import { formatUsd } from '../embedders/pricing';

/** One line of run progress, for terminals and logs alike. */
export function formatProgress(p: IngestProgress, elapsedMs: number): string {
  const c = p.counters;
  const secs = Math.max(elapsedMs / 1000, 0.001);
  const rate = c.chunksUpserted / secs;
  return (
    `[${p.phase}] docs ${c.documentsListed} listed, ${c.documentsChanged} changed, ${c.documentsUnchanged} unchanged, ` +
    `${c.documentsFailed} failed | chunks ${c.chunksUpserted}/${c.chunksPlanned} written, ${c.chunksFailed} failed | ` +
    `in flight ${p.inFlightBatches} | ${rate.toFixed(1)} chunks/s` +
    (formatSkipped(c) ? ` | skipped: ${formatSkipped(c)}` : '')
  );
}

/** What the listing left out, or nothing when it left nothing out (or could not tell). */
export function formatSkipped(c: Partial<Pick<IngestCounters, 'filesExcluded' | 'directoriesExcluded' | 'filesUnsupported'>>): string | undefined {
  const excluded = c.filesExcluded ?? 0;
  const dirs = c.directoriesExcluded ?? 0;
  const unsupported = c.filesUnsupported ?? 0;
  if (excluded + dirs + unsupported === 0) return undefined;
  return (
    `${excluded} file${excluded === 1 ? '' : 's'} and ${dirs} director${dirs === 1 ? 'y' : 'ies'} excluded by include/exclude/.vectorignore rules, ` +
    `${unsupported} file${unsupported === 1 ? '' : 's'} of unsupported type`
  );
}

export function formatSummary(c: IngestCounters): string[] {
  const skipped = formatSkipped(c);
  return [
    `documents: ${c.documentsListed} listed, ${c.documentsChanged} (re)indexed, ${c.documentsUnchanged} unchanged, ` +
      `${c.documentsFailed} failed, ${c.documentsDeleted} deleted`,
    // The chunks' own text, as the chunker counted it; what is embedded also carries each chunk's
    // heading path and the model's special tokens (the cost line), so the two differ.
    `chunks:    ${c.chunksPlanned} planned (${c.tokens} tokens of chunk text), ${c.chunksUpserted} written, ${c.chunksFailed} failed`,
    `embedding: ${c.chunksEmbedded} texts embedded in ${c.embeddingRequests} requests, ${c.chunksCached} from cache`,
    `cost:      ${c.tokensEmbedded ?? 0} tokens embedded, ${formatUsd(c.costUsd ?? 0)}`,
    ...(skipped ? [`skipped:   ${skipped}`] : []),
  ];
}
