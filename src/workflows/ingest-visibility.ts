import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { SA } from './search-attributes';
import type { IngestCounters, IngestPhase } from '../contracts/ingest';

/**
 * What the Web UI shows of a run: search attributes (filterable: collection, phase, chunks done
 * and failed) and the "current details" markdown (progress, rate, last error). Current details
 * live outside history; search attributes cost one event per update, so they are upserted per
 * page and per phase, not per batch.
 */
export class IngestVisibility {
  private last = '';

  constructor(
    private readonly collection: string,
    private readonly source: string,
    private readonly searchAttributes: boolean,
  ) {}

  phase(phase: IngestPhase, c: IngestCounters): void {
    if (this.searchAttributes) {
      upsertSearchAttributes([
        { key: SA.collection, value: this.collection },
        { key: SA.phase, value: phase },
      ]);
    }
    this.counters(c);
  }

  counters(c: IngestCounters): void {
    if (!this.searchAttributes) return;
    const next = `${c.chunksUpserted}/${c.chunksFailed}/${c.documentsFailed}`;
    if (next === this.last) return;
    this.last = next;
    upsertSearchAttributes([
      { key: SA.chunksDone, value: c.chunksUpserted },
      { key: SA.chunksFailed, value: c.chunksFailed },
      { key: SA.documentsFailed, value: c.documentsFailed },
    ]);
  }

  details(d: { phase: IngestPhase; c: IngestCounters; startedAt: string; inFlight: number; queued: number; circuitOpen: boolean; lastError: string | null }): void {
    const c = d.c;
    const secs = Math.max(1, (Date.now() - Date.parse(d.startedAt)) / 1000);
    const lines = [
      `**${d.phase}** \`${this.collection}\` from \`${this.source}\``,
      '',
      `- documents: ${c.documentsListed} listed · ${c.documentsChanged} changed · ${c.documentsUnchanged} unchanged · ${c.documentsFailed} failed · ${c.documentsDeleted} deleted`,
      `- chunks: ${c.chunksUpserted} / ${c.chunksPlanned} written · ${c.chunksFailed} failed · ${d.inFlight} batches in flight · ${d.queued} queued`,
      `- embedding: ${c.chunksEmbedded} embedded · ${c.chunksCached} from cache · ${c.embeddingRequests} requests`,
      `- rate: ${(c.chunksUpserted / secs).toFixed(1)} chunks/s since ${d.startedAt}`,
    ];
    const skipped = c.filesExcluded + c.directoriesExcluded + c.filesUnsupported;
    if (skipped > 0) {
      lines.push(`- skipped: ${c.filesExcluded} files · ${c.directoriesExcluded} directories excluded by rules · ${c.filesUnsupported} files of unsupported type`);
    }
    if (d.circuitOpen) lines.push('- **provider unavailable**: dispatch paused, probing');
    if (d.lastError) lines.push(`- last error: ${d.lastError.slice(0, 300)}`);
    setCurrentDetails(lines.join('\n'));
  }
}
