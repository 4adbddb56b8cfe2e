/**
 * Rows of a Postgres table or view as documents. The connection string is not here (it would
 * sit in workflow history with its password): `connectionEnv` names the environment variable
 * on the worker that holds it.
 */
export interface PostgresSourceSpec {
  kind: 'postgres';
  /** Name of the worker's environment variable holding the connection string. */
  connectionEnv: string;
  /** `table` or `schema.table` (a view works too). */
  table: string;
  /** Unique, non-null id column (documents are listed in its order). */
  id: string;
  /** Columns whose text makes the document, joined by blank lines. */
  text: string[];
  /** Columns kept with the document as metadata. */
  metadata?: string[];
  /** A timestamp column changed on every update: an unchanged row is skipped without reading it. */
  updatedAt?: string;
  /** How the text columns are written; default text. */
  format?: 'text' | 'markdown' | 'html';
}
