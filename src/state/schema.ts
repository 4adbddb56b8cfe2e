/**
 * The state store: what the pipeline knows between activities and between runs. It is the
 * hand-off that keeps vectors and text out of Temporal history (embed writes vectors to the
 * cache, upsert reads them from it) and the memory that makes re-indexing incremental.
 */
export const STATE_SCHEMA = 'vector_ingest';

/** Bump with every change below; migrations are additive and idempotent. */
export const STATE_VERSION = 7;

export const MIGRATION = `
CREATE EXTENSION IF NOT EXISTS vector;
CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA};

CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.collections (
  name        text PRIMARY KEY,
  sink        text NOT NULL,
  model       text NOT NULL,
  dimensions  int  NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per document ever seen. content_hash/chunk_count describe what the sink holds;
-- pending_* describe a change that is on its way and becomes current only once every chunk
-- of it has landed (commitPage), so a crash never marks a half-written document as done.
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.documents (
  collection          text NOT NULL,
  document_id         text NOT NULL,
  content_hash        text,
  chunk_count         int  NOT NULL DEFAULT 0,
  pending_hash        text,
  pending_chunk_count int,
  pending_page        text,
  last_seen_run       text,
  error_type          text,
  error_message       text,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, document_id)
);
CREATE INDEX IF NOT EXISTS documents_pending_page ON ${STATE_SCHEMA}.documents (collection, pending_page)
  WHERE pending_page IS NOT NULL;

-- Chunk text staged by the planner for the embed and upsert activities of one batch.
-- status: 0 staged, 2 failed for good (error_* say why). A chunk that lands in the sink is
-- deleted in the landing statement (since v7); 1 (landed) is what workers before v7 wrote instead.
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.staged_chunks (
  collection    text NOT NULL,
  run_key       text NOT NULL,
  page_no       int  NOT NULL,
  batch_no      int  NOT NULL,
  document_id   text NOT NULL,
  chunk_index   int  NOT NULL,
  point_id      uuid NOT NULL,
  text_hash     text NOT NULL,
  content       text NOT NULL,
  tokens        int  NOT NULL,
  status        smallint NOT NULL DEFAULT 0,
  error_type    text,
  error_message text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, run_key, page_no, batch_no, document_id, chunk_index)
);

-- Vectors by (model, dimensions, sha256 of the chunk text): a chunk whose text did not change
-- is never embedded twice, whatever document or run it comes from.
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.embedding_cache (
  model       text NOT NULL,
  dimensions  int  NOT NULL,
  text_hash   text NOT NULL,
  embedding   vector NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, dimensions, text_hash)
);

-- What a scheduled re-index needs: the last ingest's source and options (references only).
ALTER TABLE ${STATE_SCHEMA}.collections ADD COLUMN IF NOT EXISTS ingest_config jsonb;

-- The source's change signal for what landed (fingerprint) and for what is on its way
-- (pending_fingerprint), both prefixed with the chunking parameters: a listed document whose
-- fingerprint equals the recorded one is skipped without being read.
ALTER TABLE ${STATE_SCHEMA}.documents ADD COLUMN IF NOT EXISTS fingerprint text;
ALTER TABLE ${STATE_SCHEMA}.documents ADD COLUMN IF NOT EXISTS pending_fingerprint text;

-- v4: what a chunk carries besides its text (path, format, title, heading path, page, language,
-- size, mtime), and what is embedded ahead of its text (the heading path). text_hash is the hash
-- of what is embedded (prefix + text), so the embedding cache keys on exactly that.
ALTER TABLE ${STATE_SCHEMA}.staged_chunks ADD COLUMN IF NOT EXISTS embed_prefix text;
ALTER TABLE ${STATE_SCHEMA}.staged_chunks ADD COLUMN IF NOT EXISTS metadata jsonb;

-- v5: generations. A rebuild (--full: a new model or new chunking) writes generation n+1 beside
-- the live one and swaps it in when the run completes; the old one stays (retired) until dropped.
-- collections.model/dimensions/sink stay those of the live generation (what search embeds with).
-- A collection made before v5 has no rows here until its next run (generation 1, its own name).
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.generations (
  collection   text NOT NULL,
  generation   int  NOT NULL,
  state        text NOT NULL CHECK (state IN ('building', 'live', 'retired')),
  sink         text NOT NULL,
  model        text NOT NULL,
  dimensions   int  NOT NULL,
  storage      text NOT NULL,
  vector_type  text NOT NULL DEFAULT 'vector',
  created_at   timestamptz NOT NULL DEFAULT now(),
  live_since   timestamptz,
  PRIMARY KEY (collection, generation)
);
CREATE UNIQUE INDEX IF NOT EXISTS generations_one_live ON ${STATE_SCHEMA}.generations (collection) WHERE state = 'live';
CREATE UNIQUE INDEX IF NOT EXISTS generations_one_building ON ${STATE_SCHEMA}.generations (collection) WHERE state = 'building';
-- Set while a rebuild is under way or was abandoned: every run plans every document again
-- (the embedding cache makes unchanged texts free) until one completes.
ALTER TABLE ${STATE_SCHEMA}.collections ADD COLUMN IF NOT EXISTS replan_all boolean NOT NULL DEFAULT false;

-- v6: the churn tables (every run inserts, updates and deletes their rows) are vacuumed and
-- analyzed by autovacuum after 1,000 + 2 % changed rows instead of its default 50 + 20 %.
-- Only where autovacuum runs; finishRun vacuums them itself when they are due (src/state/vacuum.ts).
-- Set once: ALTER TABLE waits for a VACUUM in progress, which a worker start should not.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['staged_chunks', 'documents', 'embedding_cache'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = format('${STATE_SCHEMA}.%I', t)::regclass
                   AND reloptions @> ARRAY['autovacuum_vacuum_scale_factor=0.02']) THEN
      EXECUTE format('ALTER TABLE ${STATE_SCHEMA}.%I SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000,'
                     ' autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000)', t);
    END IF;
  END LOOP;
END $$;

-- v7: a landed chunk's staged row is deleted when it lands instead of rewritten with status 1
-- (one ~1 KB row version less per chunk). What earlier attempts of a fused batch landed, which
-- a retry reports (the run's counters stay exact across a crash), is counted here per batch,
-- in the landing statement; the rows go with the page's staging rows (commitPage, dropRun).
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.landed_batches (
  collection  text NOT NULL,
  run_key     text NOT NULL,
  page_no     int  NOT NULL,
  batch_no    int  NOT NULL,
  landed      int  NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, run_key, page_no, batch_no)
);

CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.meta (
  key   text PRIMARY KEY,
  value text NOT NULL
);
`;
