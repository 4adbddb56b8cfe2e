import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyCounters, type IngestCounters } from '../../src/contracts/ingest';
import { COUNTED, IngestTally } from '../../src/workflows/ingest-counters';

const plan = (over: Partial<Parameters<IngestTally['plan']>[0]> = {}) => ({ listed: 10, changed: 6, unchanged: 3, failed: 1, chunks: 40, tokens: 4000, batches: 3, nextCursor: null, failures: [], filesExcluded: 2, directoriesExcluded: 1, filesUnsupported: 3, ...over });
const embed = (over = {}) => ({ chunks: 8, embedded: 5, cached: 2, failed: 1, tokens: 800, costUsd: 0.5, requests: 2, ...over });

describe('IngestTally (the run counters)', () => {
  it('sums each page plan and counts the page', () => {
    const t = new IngestTally();
    t.plan(plan());
    t.plan(plan({ listed: 1, changed: 0, unchanged: 1, failed: 0, chunks: 0, tokens: 0, filesExcluded: 5, directoriesExcluded: 0, filesUnsupported: 0 }));
    assert.deepEqual(
      { ...t.counters },
      { ...emptyCounters(), pages: 2, documentsListed: 11, documentsChanged: 6, documentsUnchanged: 4, documentsFailed: 1, chunksPlanned: 40, tokens: 4000, filesExcluded: 7, directoriesExcluded: 1, filesUnsupported: 3 },
    );
  });

  it("counts a batch's embedded, cached and failed chunks once, its provider requests and billed tokens every time", () => {
    const t = new IngestTally();
    t.embed({ pageNo: 0, batchNo: 1 }, embed());
    t.embed({ pageNo: 0, batchNo: 1 }, embed({ embedded: 0, cached: 7, requests: 1 })); // dispatched again after an upsert outage
    t.embed({ pageNo: 1, batchNo: 1 }, embed()); // another page's batch of the same number
    const c = t.counters;
    assert.equal(c.chunksEmbedded, 10);
    assert.equal(c.chunksCached, 4);
    assert.equal(c.chunksFailed, 2);
    assert.equal(c.embeddingRequests, 5);
    assert.equal(c.tokensEmbedded, 2400);
    assert.equal(c.costUsd, 1.5);
  });

  it('counts upserted chunks and batches, and deleted documents', () => {
    const t = new IngestTally();
    t.upsert({ upserted: 7, written: 3, skipped: 1 });
    t.upsert({ upserted: 2, written: 2, skipped: 0 });
    t.finish({ documentsDeleted: 4 });
    assert.equal(t.counters.chunksUpserted, 9);
    assert.equal(t.counters.batches, 2);
    assert.equal(t.counters.documentsDeleted, 4);
  });

  it('goes on from carried counters, and starts a counter the carried ones lack at 0', () => {
    const carried = { ...emptyCounters(), pages: 3, chunksUpserted: 12 } as Partial<IngestCounters>;
    delete carried.tokens; // a run continued from a version without this counter
    delete carried.filesExcluded;
    const t = new IngestTally(carried as IngestCounters);
    t.plan(plan({ tokens: 5 }));
    assert.equal(t.counters.pages, 4);
    assert.equal(t.counters.chunksUpserted, 12);
    assert.equal(t.counters.tokens, 5);
    assert.equal(t.counters.filesExcluded, 2);
  });

  it('feeds every counter from some activity result (a new counter needs its line in a table)', () => {
    assert.deepEqual([...COUNTED].sort(), Object.keys(emptyCounters()).sort());
  });
});
