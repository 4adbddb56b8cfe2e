import { createHash } from 'node:crypto';
import pg from 'pg';
import { ConfigError, DocumentError } from '../errors';
import type { PostgresSourceSpec } from '../contracts/sources/postgres';
import { defineSourceKind, type DocumentMetadata, type Source, type SourceContext, type SourceItem, type SourcePage } from './types';

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a table/column name and quotes it: nothing in a name reaches SQL as code. */
function ident(what: string, name: unknown): string {
  if (typeof name !== 'string' || !IDENT.test(name)) {
    throw new ConfigError(`postgres source: ${what} ${JSON.stringify(name)} is not a plain identifier (letters, digits, _ and $, at most 63, not starting with a digit)`);
  }
  return `"${name}"`;
}

/**
 * Rows of a table or view as documents: the id column names each, the text columns (joined by
 * blank lines) are its content. The listing pages by id (`WHERE id > cursor ORDER BY id`) and
 * carries a fingerprint: the `updatedAt` column when there is one, otherwise an md5 of the
 * row's columns computed by Postgres, so an unchanged row is never fetched. The connection
 * string stays in the worker's environment (`connectionEnv` names the variable), and every
 * query runs in a read-only transaction (the pool's sessions default to read-only).
 */
export class PostgresTableSource implements Source {
  private readonly table: string;
  private readonly id: string;
  private readonly text: string[];
  private readonly metadata: string[];
  private readonly updatedAt: string | undefined;
  private readonly format: 'text' | 'markdown' | 'html';
  /** Part of every fingerprint: other columns or another format make every row new. */
  private readonly shape: string;

  constructor(
    private readonly spec: PostgresSourceSpec,
    private readonly ctx: SourceContext,
  ) {
    if (typeof spec.connectionEnv !== 'string' || !ENV_NAME.test(spec.connectionEnv)) {
      throw new ConfigError(
        `postgres source: connectionEnv must name an environment variable of the worker (e.g. "DOCS_DB"), got ${JSON.stringify(spec.connectionEnv)}; the connection string itself never goes in the source`,
      );
    }
    if (typeof spec.table !== 'string') throw new ConfigError('postgres source: table is required (table or schema.table)');
    const parts = spec.table.split('.');
    if (parts.length > 2) throw new ConfigError(`postgres source: table ${JSON.stringify(spec.table)} must be table or schema.table`);
    this.table = parts.map((p) => ident('table', p)).join('.');
    this.id = ident('id column', spec.id);
    if (!Array.isArray(spec.text) || spec.text.length === 0) throw new ConfigError('postgres source: text must list one or more columns');
    this.text = spec.text.map((c) => ident('text column', c));
    if (spec.metadata !== undefined && !Array.isArray(spec.metadata)) throw new ConfigError('postgres source: metadata must be a list of columns');
    this.metadata = (spec.metadata ?? []).map((c) => ident('metadata column', c));
    this.updatedAt = spec.updatedAt === undefined ? undefined : ident('updatedAt column', spec.updatedAt);
    if (spec.format !== undefined && !['text', 'markdown', 'html'].includes(spec.format)) {
      throw new ConfigError(`postgres source: format must be text, markdown or html, got ${JSON.stringify(spec.format)}`);
    }
    this.format = spec.format ?? 'text';
    // (With metadata columns, 'm1' marks fingerprints taken since they reach the chunks: rows
    // listed before that are read once more, to land with their metadata.)
    this.shape = createHash('sha256')
      .update(JSON.stringify([this.text, this.metadata, this.format, ...(this.metadata.length > 0 ? ['m1'] : [])]))
      .digest('hex')
      .slice(0, 12);
  }

  /** Every row has the source's format (a replay names rows by id only). */
  formatOf(): 'text' | 'markdown' | 'html' {
    return this.format;
  }

  describe(): string {
    return `postgres table ${this.spec.table} (connection in $${this.spec.connectionEnv})`;
  }

  private pool(): pg.Pool {
    const env = this.spec.connectionEnv;
    const url = this.ctx.env[env];
    if (!url) throw new ConfigError(`postgres source: the worker's environment has no ${env} (it should hold the connection string of ${this.spec.table})`);
    return this.ctx.shared(
      `postgres-source:${env}:${url}`,
      () => {
        const pool = new pg.Pool({
          connectionString: url,
          max: 4,
          idleTimeoutMillis: 30_000,
          connectionTimeoutMillis: 15_000,
          application_name: 'vector-ingest source',
          // Every statement runs in a read-only transaction: the source can never write.
          options: '-c default_transaction_read_only=on',
        });
        pool.on('error', () => undefined); // an idle connection lost; the next query reconnects
        return pool;
      },
      (p) => p.end(),
    );
  }

  /** Lists no rows but names every column: a missing table or column, or refused access, fails here. */
  async validate(): Promise<void> {
    const cols = [this.id, ...this.text, ...this.metadata, ...(this.updatedAt ? [this.updatedAt] : [])];
    try {
      await this.pool().query(`SELECT ${cols.join(', ')} FROM ${this.table} LIMIT 0`);
    } catch (err) {
      throw this.explain(err, true);
    }
  }

  async listPage(cursor: string | null, limit: number): Promise<SourcePage> {
    const fp = this.updatedAt
      ? `'u' || ${this.updatedAt}::text`
      : `'m' || md5(concat_ws(chr(31), ${[...this.text, ...this.metadata].map((c) => `coalesce(${c}::text, chr(30))`).join(', ')}))`;
    const where = cursor === null ? '' : `WHERE ${this.id} > $2`;
    let rows: Array<{ id: string; fp: string | null }>;
    try {
      // Aliases unlike any column: ORDER BY must sort by the column's own type, not its text.
      const r = await this.pool().query<{ id: string; fp: string | null }>(
        `SELECT ${this.id}::text AS "vi$id", ${fp} AS "vi$fp" FROM ${this.table} ${where} ORDER BY ${this.id} LIMIT $1`,
        cursor === null ? [limit + 1] : [limit + 1, cursor],
      );
      rows = r.rows.map((row) => ({ id: (row as unknown as Record<string, string>)['vi$id']!, fp: (row as unknown as Record<string, string | null>)['vi$fp'] ?? null }));
    } catch (err) {
      throw this.explain(err, false);
    }
    const more = rows.length > limit;
    const page = rows.slice(0, limit).filter((r) => r.id !== null);
    const items: SourceItem[] = page.map((r) => ({
      id: r.id,
      format: this.format,
      ...(r.fp !== null && { fingerprint: `${this.shape}:${r.fp}` }),
    }));
    return { items, nextCursor: more ? page[page.length - 1]!.id : null };
  }

  async read(item: SourceItem, maxBytes: number): Promise<Uint8Array> {
    return (await this.readWithMetadata(item, maxBytes)).bytes;
  }

  /**
   * The row's text columns joined by blank lines, and its metadata columns by their names (for
   * every chunk's metadata: the pgvector `metadata` column, the Qdrant payload). A NULL is left
   * out, a timestamp becomes ISO 8601 text, json/jsonb stays structured.
   */
  async readWithMetadata(item: SourceItem, maxBytes: number): Promise<{ bytes: Uint8Array; metadata: DocumentMetadata }> {
    let row: Record<string, unknown> | undefined;
    const cols = [...this.text.map((c, i) => `${c} AS "vi$t${i}"`), ...this.metadata.map((c, i) => `${c} AS "vi$m${i}"`)];
    try {
      const r = await this.pool().query(`SELECT ${cols.join(', ')} FROM ${this.table} WHERE ${this.id} = $1 LIMIT 1`, [item.id]);
      row = r.rows[0];
    } catch (err) {
      throw this.explain(err, false);
    }
    if (!row) throw new DocumentError('DocumentVanished', `${item.id}: row no longer exists in ${this.spec.table}`);
    const text = this.text
      .map((_, i) => row[`vi$t${i}`])
      .filter((v) => v !== null && v !== undefined)
      .map((v) => String(v))
      .filter((v) => v.length > 0)
      .join('\n\n');
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > maxBytes) throw new DocumentError('DocumentTooLarge', `${item.id}: is ${bytes.length} bytes; the limit is ${maxBytes} (VECTOR_INGEST_MAX_DOCUMENT_BYTES)`);
    const metadata: DocumentMetadata = {};
    (this.spec.metadata ?? []).forEach((name, i) => {
      const v = metadataValue(row[`vi$m${i}`]);
      if (v !== undefined) metadata[name] = v;
    });
    return { bytes, metadata };
  }

  /** Postgres errors in terms of the source: run-level problems become ConfigError naming them. */
  private explain(err: unknown, strict: boolean): Error {
    if (err instanceof ConfigError || err instanceof DocumentError) return err;
    const e = err as { code?: string; message?: string };
    const what = `postgres source ${this.spec.table} ($${this.spec.connectionEnv})`;
    switch (e.code) {
      case '42P01':
        return new ConfigError(`${what}: table ${this.spec.table} does not exist (${e.message})`);
      case '42703':
        return new ConfigError(`${what}: ${e.message}; the source names columns ${[this.spec.id, ...this.spec.text, ...(this.spec.metadata ?? []), ...(this.spec.updatedAt ? [this.spec.updatedAt] : [])].join(', ')}`);
      case '3F000':
        return new ConfigError(`${what}: schema does not exist (${e.message})`);
      case '42501':
        return new ConfigError(`${what}: permission denied (${e.message})`);
      case '28P01':
      case '28000':
        return new ConfigError(`${what}: authentication refused (${e.message}); check the credentials in ${this.spec.connectionEnv} on the worker`);
      case '3D000':
        return new ConfigError(`${what}: database does not exist (${e.message})`);
    }
    const unreachable = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN'].includes(e.code ?? '') || /timeout|terminated/i.test(e.message ?? '');
    if (unreachable && strict) return new ConfigError(`${what}: database unreachable (${e.code ?? e.message})`);
    return err as Error;
  }
}

/** A column's value as JSON metadata: NULL absent, timestamps as ISO 8601, bytea as \\x hex. */
function metadataValue(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  return v;
}

export const postgresSource = defineSourceKind({
  kind: 'postgres',
  open(spec, ctx) {
    return new PostgresTableSource(spec, ctx);
  },
});
