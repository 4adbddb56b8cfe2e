import { v5 as uuidv5 } from 'uuid';
import { createHash } from 'node:crypto';

/** Fixed namespace for point ids; changing it would orphan every stored point. */
export const POINT_ID_NAMESPACE = '6f1d7a52-3f0e-5b8c-9a41-2c7e0d5b9e13';

/**
 * Deterministic point id of a chunk: UUIDv5 of (collection, document id, chunk index).
 * Qdrant accepts only unsigned integers or UUIDs as ids, and a deterministic id makes every
 * retry, replay and re-run an overwrite instead of a duplicate.
 */
export function pointId(collection: string, documentId: string, chunkIndex: number): string {
  return uuidv5(`${collection}\u0000${documentId}\u0000${chunkIndex}`, POINT_ID_NAMESPACE);
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
