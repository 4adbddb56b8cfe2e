import { emptyCounters, type IngestCounters } from '../contracts/ingest';
import type { EmbedResult, PlanResult, UpsertResult } from '../activities';

type NumericKeys<T> = { [K in keyof T]-?: T[K] extends number ? K : never }[keyof T];
/** Which field of an activity's result adds to which counter. */
type Sums<R> = Partial<Record<keyof IngestCounters, NumericKeys<R>>>;

// Adding a counter: a field in IngestCounters and emptyCounters() (src/contracts/ingest.ts), and
// one line in the table of the activity result it comes from. Nothing else changes.

/** Summed from each page's plan. */
const FROM_PLAN: Sums<PlanResult> = {
  documentsListed: 'listed',
  documentsChanged: 'changed',
  documentsUnchanged: 'unchanged',
  documentsFailed: 'failed',
  chunksPlanned: 'chunks',
  tokens: 'tokens',
  filesExcluded: 'filesExcluded',
  directoriesExcluded: 'directoriesExcluded',
  filesUnsupported: 'filesUnsupported',
};
/** Summed from every embed that comes back: each made real provider requests, billed by the token. */
const FROM_EVERY_EMBED: Sums<EmbedResult> = { embeddingRequests: 'requests', tokensEmbedded: 'tokens', costUsd: 'costUsd' };
/**
 * Summed once per batch, from its first embed that came back. A batch whose upsert hit an outage
 * is dispatched again, embed included, and must not count its chunks (failed ones above all) twice.
 */
const FROM_FIRST_EMBED: Sums<EmbedResult> = { chunksEmbedded: 'embedded', chunksCached: 'cached', chunksFailed: 'failed' };
/** Summed from each batch's upsert. */
const FROM_UPSERT: Sums<UpsertResult> = { chunksUpserted: 'upserted' };
/** Summed from the run's finish. */
const FROM_FINISH: Sums<{ documentsDeleted: number }> = { documentsDeleted: 'documentsDeleted' };

/** Every counter something feeds (pages and batches count plans and upserts themselves). */
export const COUNTED: ReadonlySet<keyof IngestCounters> = new Set([
  'pages',
  'batches',
  ...[FROM_PLAN, FROM_EVERY_EMBED, FROM_FIRST_EMBED, FROM_UPSERT, FROM_FINISH].flatMap((t) => Object.keys(t) as Array<keyof IngestCounters>),
]);

function add<R>(c: IngestCounters, table: Sums<R>, result: R): void {
  for (const [counter, field] of Object.entries(table) as Array<[keyof IngestCounters, keyof R]>) {
    c[counter] += (result[field] as number | undefined) ?? 0;
  }
}

/**
 * The run's counters, carried across continue-as-new. A run continued from an older version
 * that lacked a counter starts that counter at 0.
 */
export class IngestTally {
  readonly counters: IngestCounters;
  private readonly embedCounted = new Set<string>();

  constructor(carried?: IngestCounters) {
    this.counters = Object.assign(emptyCounters(), carried);
  }

  plan(p: PlanResult): void {
    this.counters.pages++;
    add(this.counters, FROM_PLAN, p);
  }

  embed(batch: { pageNo: number; batchNo: number }, e: EmbedResult): void {
    add(this.counters, FROM_EVERY_EMBED, e);
    const id = `${batch.pageNo}:${batch.batchNo}`;
    if (this.embedCounted.has(id)) return;
    this.embedCounted.add(id);
    add(this.counters, FROM_FIRST_EMBED, e);
  }

  upsert(u: UpsertResult): void {
    add(this.counters, FROM_UPSERT, u);
    this.counters.batches++;
  }

  finish(f: { documentsDeleted: number }): void {
    add(this.counters, FROM_FINISH, f);
  }
}
