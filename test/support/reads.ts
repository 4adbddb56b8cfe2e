import { metrics } from '../../src/metrics/registry';

/**
 * Documents read from sources of `kind` by the in-process worker so far: planning counts every
 * source.read() it starts (vector_ingest_documents_read_total). Tests diff two readings.
 */
export async function documentsRead(kind: string): Promise<number> {
  const m = await metrics.documentsRead.get();
  return m.values.filter((v) => v.labels.source === kind).reduce((s, v) => s + v.value, 0);
}
