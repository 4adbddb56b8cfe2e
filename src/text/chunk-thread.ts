/**
 * A chunking thread (worker_threads) of chunk-threads.ts: receives documents, answers with their
 * planned chunks or the DocumentError that refuses them. Holds no state but its tokenizers.
 */
import { parentPort } from 'node:worker_threads';
import { DocumentError } from '../errors';
import { plannedChunks, type ChunkJob, type PlannedChunk } from './chunk-job';
import { tokenizerOf } from './tokenizer-spec';
import type { TokenizerSpec } from './tokenizer';

export interface ChunkRequest {
  id: number;
  job: ChunkJob;
  tokenizer: TokenizerSpec;
}

export type ChunkReply = { id: number; chunks: PlannedChunk[] } | { id: number; error: { document: boolean; type: string; message: string } };

parentPort?.on('message', (m: ChunkRequest) => {
  plannedChunks(m.job, tokenizerOf(m.tokenizer)).then(
    (chunks) => parentPort!.postMessage({ id: m.id, chunks } satisfies ChunkReply),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      const error = { document: e instanceof DocumentError, type: e instanceof DocumentError ? e.type : e.name, message: e.message };
      parentPort!.postMessage({ id: m.id, error } satisfies ChunkReply);
    },
  );
});
