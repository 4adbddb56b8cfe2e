import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSummary } from '../../src/cli/progress';
import { emptyCounters } from '../../src/contracts/ingest';

// The summary `ingest` and `status` print. Its token counts are two different things: the
// chunk text the chunker counted, and what the provider received (heading paths and special
// tokens included); each is labelled as what it is, so the two numbers never read as a mismatch.
describe('run summary', () => {
  it('labels chunk-text tokens and embedded tokens apart, and shows what the listing skipped', () => {
    const lines = formatSummary({
      ...emptyCounters(),
      documentsListed: 5,
      documentsChanged: 5,
      chunksPlanned: 9,
      chunksUpserted: 9,
      chunksEmbedded: 9,
      embeddingRequests: 1,
      tokens: 715,
      tokensEmbedded: 725,
      costUsd: 0.0000145,
      filesUnsupported: 2,
    });
    assert.equal(lines[1], 'chunks:    9 planned (715 tokens of chunk text), 9 written, 0 failed');
    assert.equal(lines[2], 'embedding: 9 texts embedded in 1 requests, 0 from cache');
    assert.match(lines[3]!, /^cost: +725 tokens embedded, \$/);
    assert.equal(lines[4], 'skipped:   0 files and 0 directories excluded by include/exclude/.vectorignore rules, 2 files of unsupported type');
    assert.ok(!lines.some((l) => /tokens planned/.test(l)));
  });
});
