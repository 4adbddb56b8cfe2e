import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registry } from '../../src/metrics/registry';
import { observePool } from '../../src/metrics/pool';
import { MeteredEmbedder } from '../../src/metrics/metered';
import { OfflineEmbedder } from '../../src/embedders/offline';
import type { EmbeddingResult } from '../../src/embedders/types';

/** The value of a sample in the registry's Prometheus text, as a scrape reads it. */
async function sample(name: string, labels = ''): Promise<number | undefined> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('gauges', () => {
  it('Postgres pool gauges read the pools\' own counts at scrape time, summed, until unobserved', async () => {
    // pg.Pool exposes these three counters; the real pool is exercised by the worker tests.
    const a = { totalCount: 4, idleCount: 1, waitingCount: 2 };
    const b = { totalCount: 2, idleCount: 2, waitingCount: 0 };
    const stopA = observePool(a);
    const stopB = observePool(b);
    assert.equal(await sample('vector_ingest_pg_pool_connections'), 6);
    assert.equal(await sample('vector_ingest_pg_pool_idle_connections'), 3);
    assert.equal(await sample('vector_ingest_pg_pool_waiting_clients'), 2);
    a.idleCount = 4;
    a.waitingCount = 0;
    assert.equal(await sample('vector_ingest_pg_pool_idle_connections'), 6);
    assert.equal(await sample('vector_ingest_pg_pool_waiting_clients'), 0);
    stopA();
    assert.equal(await sample('vector_ingest_pg_pool_connections'), 2);
    stopB();
    assert.equal(await sample('vector_ingest_pg_pool_connections'), 0);
  });

  it('embedding requests in flight go up while requests wait for the provider and back down, failed ones too', async () => {
    const inner = new OfflineEmbedder(8);
    const gates: Array<() => void> = [];
    let fail = false;
    const slow = Object.create(inner, {
      embed: {
        value: async (texts: string[]): Promise<EmbeddingResult> => {
          await new Promise<void>((r) => gates.push(r));
          if (fail) throw new Error('provider down');
          return inner.embed(texts);
        },
      },
    }) as OfflineEmbedder;
    const e = new MeteredEmbedder(slow);
    const labels = `{model="${inner.model}"}`;
    const before = (await sample('vector_ingest_embedding_requests_in_flight', labels)) ?? 0;
    const calls = [e.embed(['a']), e.embed(['b']), e.embed(['c'])];
    assert.equal(await sample('vector_ingest_embedding_requests_in_flight', labels), before + 3);
    gates.shift()!();
    await calls[0];
    assert.equal(await sample('vector_ingest_embedding_requests_in_flight', labels), before + 2);
    fail = true;
    gates.splice(0).forEach((g) => g());
    await assert.rejects(calls[1]!);
    await assert.rejects(calls[2]!);
    assert.equal(await sample('vector_ingest_embedding_requests_in_flight', labels), before);
  });
});
