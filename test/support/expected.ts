import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { pointId, sha256 } from '../../src/ids';
import { chunkDocument, chunkDocumentSync, type DocumentChunk, type DocumentInput } from '../../src/text/document';
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
 * chunking functions, independently of the pipeline that wrote it. Synchronous for directories
 * of text formats (markdown, HTML, text); expectedRowsAsync for any format.
 */
export function expectedRows(collection: string, root: string, chunking: ChunkingOptions): ExpectedRow[] {
  return rowsOf(collection, walk(root), (d) => chunkDocumentSync(docInput(root, d, chunking)));
}

export async function expectedRowsAsync(collection: string, root: string, chunking: ChunkingOptions): Promise<ExpectedRow[]> {
  const chunks = new Map<string, DocumentChunk[]>();
  const docs = walk(root);
  for (const d of docs) chunks.set(d, await chunkDocument(docInput(root, d, chunking)));
  return rowsOf(collection, docs, (d) => chunks.get(d)!);
}

function docInput(root: string, id: string, chunking: ChunkingOptions): DocumentInput {
  return { documentId: id, bytes: readFileSync(path.join(root, id)), format: formatOf(id)!, chunking, limits: DEFAULT_FORMAT_LIMITS };
}

/** Relative paths of the files under root that have a format, in walk order. */
function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(path.join(root, r)).isDirectory()) out.push(...walk(root, r));
    else if (formatOf(name)) out.push(r);
  }
  return out;
}

function rowsOf(collection: string, docs: string[], chunksOf: (id: string) => DocumentChunk[]): ExpectedRow[] {
  const rows: ExpectedRow[] = [];
  for (const r of docs) {
    for (const c of chunksOf(r)) {
      rows.push({
        id: pointId(collection, r, c.index),
        document_id: r,
        chunk_index: c.index,
        content: c.content,
        content_hash: sha256(embeddingText(c.embedPrefix, c.content)),
      });
    }
  }
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
