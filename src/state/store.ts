import type { Pool } from 'pg';
import { inTransaction } from './db';
import { MIGRATION, STATE_SCHEMA as S, STATE_VERSION } from './schema';
import { CollectionsTable } from './collections';
import { GenerationsTable } from './generations';
import { DocumentsTable } from './documents';
import { StagingTable } from './staging';
import { EmbeddingCache } from './embedding-cache';
import { LeaseStore, LEASES_MIGRATION } from './leases';
import { RateBuckets, RATE_BUCKETS_MIGRATION } from './rate-buckets';

export type { CollectionRecord } from './collections';
export type { GenerationRecord } from './generations';
export type { BatchKey, StagedChunk, DocumentPlan, ChunkFailure, CommittedDocument, RefreshedFingerprint } from './staging';
export type { KnownDocument } from './documents';

const MIGRATION_LOCK = 0x76_69_6e_67; // "ving": serialises concurrent worker start-ups

/**
 * The state tables over one pool, one part per table family (e.g. `store.cache.putEmbeddings`).
 * Knows nothing of Temporal.
 */
export class StateStore {
  readonly collections: CollectionsTable;
  /** A collection's live, building and retired generations. */
  readonly generations: GenerationsTable;
  readonly documents: DocumentsTable;
  readonly staging: StagingTable;
  readonly cache: EmbeddingCache;
  /** One active run per collection (the lease and its fenced writes). */
  readonly leases: LeaseStore;
  /** Provider rate limits shared by every worker process. */
  readonly rateBuckets: RateBuckets;

  constructor(readonly pool: Pool) {
    this.collections = new CollectionsTable(pool);
    this.generations = new GenerationsTable(pool);
    this.documents = new DocumentsTable(pool);
    this.staging = new StagingTable(pool);
    this.cache = new EmbeddingCache(pool);
    this.leases = new LeaseStore(pool);
    this.rateBuckets = new RateBuckets(pool);
  }

  /** The state tables exist (a database no worker has used yet has none): a read-only check. */
  async initialized(): Promise<boolean> {
    const r = await this.pool.query<{ ok: boolean }>(`SELECT to_regclass('${S}.meta') IS NOT NULL AS ok`);
    return r.rows[0]?.ok === true;
  }

  /** Creates or upgrades every state table; safe to run from several workers at once. */
  async migrate(): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query(MIGRATION);
      await c.query(LEASES_MIGRATION);
      await c.query(RATE_BUCKETS_MIGRATION);
      await c.query(
        `INSERT INTO ${S}.meta (key, value) VALUES ('state_version', $1)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        [String(STATE_VERSION)],
      );
    });
  }
}
