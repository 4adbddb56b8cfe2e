import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { pointId, sha256 } from '../../src/ids';
import { chunkDocument } from '../../src/text/document';
import { formatOf } from '../../src/text/extract';
import { DEFAULT_FORMAT_LIMITS } from '../../src/text/formats';
import { embeddingText } from '../../src/text/sections';
import type { ChunkingOptions } from '../../src/contracts/ingest';
import { withPg } from './env';

export interface ExpectedRow {
  id: string;
  document_id: string;
  chunk_index: number;
  content: string;
  /** sha256 of what was embedded (heading path + content): the sink's content_hash. */
  content_hash: string;
}

/**
 * What the sink must hold for a directory, computed offline with the same extraction and
 * chunking functions, independently of the pipeline that wrote it.
 */
export async function expectedRows(collection: string, root: string, chunking: ChunkingOptions): Promise<ExpectedRow[]> {
  const rows: ExpectedRow[] = [];
  const walk = async (rel: string) => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = statSync(path.join(root, r));
      if (st.isDirectory()) await walk(r);
      else if (formatOf(name)) {
        const chunks = await chunkDocument({
          documentId: r,
          bytes: readFileSync(path.join(root, r)),
          format: formatOf(name)!,
          chunking,
          limits: DEFAULT_FORMAT_LIMITS,
        });
        for (const c of chunks) {
          rows.push({
            id: pointId(collection, r, c.index),
            document_id: r,
            chunk_index: c.index,
            content: c.content,
            content_hash: sha256(embeddingText(c.embedPrefix, c.content)),
          });
        }
      }
    }
  };
  await walk('');
  return rows.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The embedding cache keys of the rows: one per distinct embedded text. */
export function textHashes(rows: ExpectedRow[]): Set<string> {
  return new Set(rows.map((r) => r.content_hash));
}

export async function sinkRows(collection: string): Promise<ExpectedRow[]> {
  return withPg(
    async (c) => (await c.query(`SELECT id, document_id, chunk_index, content, content_hash FROM public.${collection} ORDER BY id`)).rows,
  );
}
