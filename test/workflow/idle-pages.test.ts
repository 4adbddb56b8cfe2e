import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../src/activities';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE } from '../../src/contracts/ingest';
import { scheduledActivities } from '../support/history';
import { startTimeSkipping, withMockedWorkers } from '../support/time-skipping';

// A re-index of a mostly unchanged source: pages that planned nothing cost one planPage and no
// other activity; pages with changes still embed, write and commit as before.
describe('pages with nothing to do (mocked activities)', () => {
  let env: TestWorkflowEnvironment;

  before(async () => {
    env = await startTimeSkipping();
  });
  after(() => env?.teardown());

  it('schedules no commitPage for a page that planned nothing, and commits the pages that did', async () => {
    const PAGES = 6;
    const changedPages = new Set([0, 3]); // page 4: one document failed before it was planned, nothing changed
    const calls = { commit: [] as number[], embed: [] as number[], upsert: [] as number[] };
    const activities = {
      prepareCollection: async () => ({ model: 'm', dimensions: 4, semantic: true, sink: 'pgvector', searchAttributes: false }),
      planPage: async (i: { cursor: string | null }) => {
        const page = i.cursor === null ? 0 : Number(i.cursor) + 1;
        const changed = changedPages.has(page);
        const failed = page === 4 ? 1 : 0;
        return {
          listed: 10,
          changed: changed ? 2 : 0,
          unchanged: changed ? 8 : 10 - failed,
          failed,
          chunks: changed ? 6 : 0,
          tokens: changed ? 60 : 0,
          batches: changed ? 2 : 0,
          nextCursor: page + 1 < PAGES ? String(page) : null,
          failures: failed ? [{ documentId: 'bad.md', type: 'DocumentUnreadable', message: 'binary' }] : [],
        };
      },
      // The default pipeline (fused): one activity embeds and writes each batch.
      embedAndWriteBatch: async (k: { pageNo: number }) => {
        calls.embed.push(k.pageNo);
        calls.upsert.push(k.pageNo);
        return { embed: { chunks: 3, embedded: 3, cached: 0, failed: 0, tokens: 30, requests: 1 }, upsert: { upserted: 3, written: 3, skipped: 0 } };
      },
      commitPage: async (k: { pageNo: number }) => {
        calls.commit.push(k.pageNo);
        return { documents: 2, failedChunks: 0 };
      },
      finishRun: async () => ({ documentsDeleted: 0 }),
    } as unknown as Activities;

    await withMockedWorkers(env, activities, async () => {
      const h = await env.client.workflow.start(ingestCollection, {
        taskQueue: TASK_QUEUE,
        workflowId: 'idle-pages',
        args: [{ collection: 'idle_pages', source: { kind: 'synthetic', documents: 1 }, maxPagesPerRun: 4 }],
      });
      const result = await h.result();
      assert.deepEqual([...calls.commit].sort(), [0, 3], 'commitPage ran for pages without changes');
      assert.deepEqual([...new Set(calls.embed)].sort(), [0, 3]);
      assert.deepEqual([...new Set(calls.upsert)].sort(), [0, 3]);
      const c = result.counters;
      assert.equal(c.pages, PAGES);
      assert.equal(c.documentsListed, PAGES * 10);
      assert.equal(c.documentsChanged, 4);
      assert.equal(c.documentsFailed, 1);
      assert.equal(c.chunksUpserted, 12);
      assert.equal(result.continuedAsNew, 1);

      // The same, read from the history of every run of the chain: what was scheduled.
      const scheduled = await scheduledActivities(env.client, 'idle-pages', h.firstExecutionRunId);
      assert.equal(scheduled.get('planPage'), PAGES);
      assert.equal(scheduled.get('commitPage'), 2);
      assert.equal(scheduled.get('embedAndWriteBatch'), 4);
      assert.equal(scheduled.get('embedBatch'), undefined);
      assert.equal(scheduled.get('finishRun'), 1);
    });
  });
});
