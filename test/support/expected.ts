import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { pointId, sha256 } from '../../src/ids';
import { chunkText } from '../../src/text/chunker';
import { decodeUtf8, extractText, formatOf } from '../../src/text/extract';
import type { ChunkingOptions } from '../../src/contracts/ingest';
import { withPg } from './env';

export interface ExpectedRow {
  id: string;
  document_id: string;
  chunk_index: number;
  content: string;
}

/**
 * What the sink must hold for a directory, computed offline with the same extraction and
 * chunking functions, independently of the pipeline that wrote it.
 */
export function expectedRows(collection: string, root: string, chunking: ChunkingOptions): ExpectedRow[] {
  const rows: ExpectedRow[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = statSync(path.join(root, r));
      if (st.isDirectory()) walk(r);
      else if (formatOf(name)) {
        const text = extractText(r, decodeUtf8(r, readFileSync(path.join(root, r))), formatOf(name)!);
        for (const c of chunkText(text, chunking)) rows.push({ id: pointId(collection, r, c.index), document_id: r, chunk_index: c.index, content: c.text });
      }
    }
  };
  walk('');
  return rows.sort((a, b) => (a.id < b.id ? -1 : 1));
}

export function textHashes(rows: ExpectedRow[]): Set<string> {
  return new Set(rows.map((r) => sha256(r.content)));
}

export async function sinkRows(collection: string): Promise<ExpectedRow[]> {
  return withPg(async (c) => (await c.query(`SELECT id, document_id, chunk_index, content FROM public.${collection} ORDER BY id`)).rows);
}
