import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ReprocessInput, ReprocessedDocument } from '../../src/activities/reprocess';
import { failuresQuery, recordFailuresSignal, replayFailures, replayUpdate } from '../../src/workflows';
import { TASK_QUEUE } from '../../src/contracts/ingest';
import type { FailuresPage, ReplaySpec } from '../../src/contracts/replay';
import { startTimeSkipping, withMockedWorkers } from '../support/time-skipping';

const HOUR = 3_600_000;
const SPEC: ReplaySpec = { source: { kind: 'synthetic', documents: 3 }, chunking: { chunkTokens: 100, overlapTokens: 10 }, batching: { maxChunks: 8, maxTokens: 4000 } };

// The replay workflow's automatic retry, on Temporal's time-skipping test server: failures are
// parked, the clock is moved past the retry interval (an hour, in milliseconds of real time),
// and the timer really fires the reprocess activity, which resolves the items it can. The
// activity is a mock (the workflow's timer is what is under test); it records the server time
// it was scheduled at, so "after the interval, not before" is read from Temporal, not assumed.
describe('replay workflow: timed automatic retry (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;

  before(async () => {
    env = await startTimeSkipping();
  });
  after(() => env?.teardown());

  it('parks failures, retries them once the interval has passed, resolves what now succeeds and stops at maxAutoAttempts', async () => {
    const calls: Array<{ ids: string[]; scheduledAt: number }> = [];
    const activities = {
      reprocessDocuments: async (i: ReprocessInput): Promise<{ documents: ReprocessedDocument[] }> => {
        calls.push({ ids: [...i.documentIds], scheduledAt: Context.current().info.scheduledTimestampMs });
        // a.md and b.md are fixed now; c.md still fails
        return { documents: i.documentIds.map((id) => (id === 'c.md' ? { documentId: id, outcome: 'failed', type: 'ExtractionFailed', message: 'still broken' } : { documentId: id, outcome: 'ok' })) };
      },
    };
    await withMockedWorkers(env, activities, async () => {
      const collection = 'auto_retry';
      const handle = await env.client.workflow.signalWithStart(replayFailures, {
        workflowId: `replay-${collection}`,
        taskQueue: TASK_QUEUE,
        args: [{ collection, autoRetryEvery: '1h', maxAutoAttempts: 2 }],
        signal: recordFailuresSignal,
        signalArgs: [
          {
            runKey: 'run-1',
            replay: SPEC,
            items: ['a.md', 'b.md', 'c.md'].map((documentId) => ({ documentId, type: 'ExtractionFailed', message: 'could not parse' })),
          },
        ],
      });
      const page = (): Promise<FailuresPage> => handle.query(failuresQuery, {});
      const until = async (what: string, ok: (p: FailuresPage) => boolean): Promise<FailuresPage> => {
        const deadline = Date.now() + 20_000;
        for (;;) {
          const p = await page();
          if (ok(p)) return p;
          if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(p)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      const parked = await until('the failures were not recorded', (p) => p.total === 3);
      assert.ok(parked.nextAutoRetryAt, 'no automatic retry scheduled');
      const dueAt = new Date(parked.nextAutoRetryAt).getTime();
      const t0 = await env.currentTimeMs();
      assert.ok(dueAt - t0 > 0.9 * HOUR && dueAt - t0 <= HOUR, `retry due ${dueAt - t0} ms after start, expected about an hour`);

      // Just before the interval: nothing retried yet.
      await env.sleep(HOUR - 5 * 60_000);
      assert.equal((await page()).total, 3);
      assert.equal(calls.length, 0, 'the automatic retry ran before its interval');

      // Past it: the timer fires, the activity runs, a.md and b.md leave the list, c.md stays.
      await env.sleep(10 * 60_000);
      const after1 = await until('the automatic retry did not resolve a.md and b.md', (p) => p.total === 1 && !p.replaying);
      assert.equal(calls.length, 1);
      assert.deepEqual(calls[0]!.ids, ['a.md', 'b.md', 'c.md']);
      assert.ok(calls[0]!.scheduledAt >= dueAt, `retry scheduled at ${calls[0]!.scheduledAt}, before it was due (${dueAt})`);
      assert.deepEqual(after1.items.map((i) => [i.documentId, i.attempts, i.message]), [['c.md', 2, 'still broken']]);
      assert.ok(after1.nextAutoRetryAt && new Date(after1.nextAutoRetryAt).getTime() >= calls[0]!.scheduledAt + HOUR - 1000, 'the next retry is not an interval later');
      // What the automatic replay did is in the query, not only in the worker's log.
      const { last, ...totals } = after1.replays;
      assert.deepEqual(totals, { replays: 1, automatic: 1, landed: 2, stillFailing: 1, vanished: 0 });
      assert.deepEqual({ ...last, at: undefined }, { at: undefined, automatic: true, requested: 3, landed: 2, stillFailing: 1, vanished: 0 });
      assert.ok(new Date(last!.at).getTime() >= calls[0]!.scheduledAt, `last replay at ${last!.at}`);

      // c.md reached maxAutoAttempts (2): later intervals leave it parked for a manual replay.
      await env.sleep(3 * HOUR);
      const after3 = await page();
      assert.equal(calls.length, 1, 'an item past maxAutoAttempts was retried automatically');
      assert.deepEqual(after3.items.map((i) => i.documentId), ['c.md']);
      assert.equal(after3.replays.replays, 1);

      // A manual replay adds to the same totals.
      await handle.executeUpdate(replayUpdate, { args: [{ all: true }] });
      const { last: manual, ...after4 } = (await page()).replays;
      assert.deepEqual(after4, { replays: 2, automatic: 1, landed: 2, stillFailing: 2, vanished: 0 });
      assert.deepEqual([manual?.automatic, manual?.requested, manual?.landed, manual?.stillFailing], [false, 1, 0, 1]);
      await handle.terminate('test over');
    });
  });
  it('an automatic retry whose activity gives up leaves the list whole and the workflow running; the next interval resolves it', async () => {
    let calls = 0;
    const activities = {
      reprocessDocuments: async (i: ReprocessInput): Promise<{ documents: ReprocessedDocument[] }> => {
        calls++;
        if (calls === 1) throw ApplicationFailure.create({ type: 'CollectionBusy', message: 'collection auto_busy is being written by another run', nonRetryable: true });
        return { documents: i.documentIds.map((documentId) => ({ documentId, outcome: 'ok' as const })) };
      },
    };
    await withMockedWorkers(env, activities, async () => {
      const handle = await env.client.workflow.signalWithStart(replayFailures, {
        workflowId: 'replay-auto_busy',
        taskQueue: TASK_QUEUE,
        args: [{ collection: 'auto_busy', autoRetryEvery: '1h' }],
        signal: recordFailuresSignal,
        signalArgs: [{ runKey: 'run-1', replay: SPEC, items: ['a.md', 'b.md'].map((documentId) => ({ documentId, type: 'ExtractionFailed', message: 'could not parse' })) }],
      });
      const settle = async (ok: () => Promise<boolean>, what: string) => {
        for (const deadline = Date.now() + 20_000; !(await ok()); ) {
          if (Date.now() > deadline) throw new Error(what);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      await settle(async () => (await handle.query(failuresQuery, {})).total === 2, 'failures not recorded');
      await env.sleep(HOUR + 60_000);
      await settle(async () => calls === 1 && !(await handle.query(failuresQuery, {})).replaying, 'the automatic retry did not run');
      assert.equal((await handle.describe()).status.name, 'RUNNING', 'a failed automatic retry ended the workflow that holds the failure list');
      const kept = await handle.query(failuresQuery, {});
      assert.deepEqual(kept.items.map((i) => [i.documentId, i.attempts]), [['a.md', 1], ['b.md', 1]]);
      assert.equal(kept.replays.replays, 1);
      assert.equal(kept.replays.landed, 0);
      assert.match(kept.replays.last?.error ?? '', /being written by another run/, 'a replay that gave up says why');
      await env.sleep(HOUR + 60_000);
      await settle(async () => (await handle.query(failuresQuery, {})).total === 0, 'the next interval did not retry');
      assert.equal(calls, 2);
      const done = (await handle.query(failuresQuery, {})).replays;
      assert.deepEqual([done.replays, done.automatic, done.landed, done.last?.landed, done.last?.error], [2, 2, 2, 2, undefined]);
      await handle.terminate('test over');
    });
  });
});
