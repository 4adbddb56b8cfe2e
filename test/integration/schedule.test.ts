import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { ScheduleDescription } from '@temporalio/client';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import type { ReindexResult } from '../../src/workflows/reindex';
import { drillCorpus, drillInput, startIngest } from '../support/drill';
import { startTemporal, startTestWorker, testClient, testConfig, uniqueCollection, withPg, type TestWorker } from '../support/env';

const exec = promisify(execFile);
const BIN = path.resolve(__dirname, '../../bin/vector-ingest.js');
const EVERY_S = 5;

// The `vector-ingest schedule` commands against a real Temporal server, checked by what the
// schedule actually does: workflow executions it starts (read from Temporal), not the words the
// CLI prints. Paused means no run; unpause lets the interval fire; trigger starts one now;
// a trigger while a run is still going is skipped (overlap skip, the default); backfill starts
// the runs a past period would have had.
describe('schedule: pause, unpause, trigger, skip on overlap, backfill', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let worker: TestWorker | undefined;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const collection = uniqueCollection('it_sched');
  const files = 8;

  before(async () => {
    [server, emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 8, latencyMs: 5 })]);
    tc = await testClient(server);
  });
  after(async () => {
    await exec(process.execPath, [BIN, 'schedule', 'delete', collection, '--temporal-address', server.address]).catch(() => undefined);
    await tc?.close();
    await worker?.stop();
    await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)).catch(() => undefined);
    await Promise.all([server?.stop(), emb?.close()]);
  });

  const cli = (...args: string[]) => exec(process.execPath, [BIN, 'schedule', ...args, '--temporal-address', server.address]);
  const describeSchedule = (): Promise<ScheduleDescription> => tc.client.schedule.getHandle(`reindex-${collection}`).describe();
  /** Waits (bounded) until the schedule's description satisfies `ok`. */
  const until = async (what: string, ok: (d: ScheduleDescription) => boolean, ms = 30_000): Promise<ScheduleDescription> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const d = await describeSchedule();
      if (ok(d)) return d;
      if (Date.now() > deadline) throw new Error(`${what}: taken ${d.info.numActionsTaken}, skipped ${d.info.numActionsSkippedOverlap}, running ${d.info.runningActions.length}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  /** The results of the runs the schedule started, newest `n`, read from Temporal. */
  const lastRuns = async (d: ScheduleDescription, n: number): Promise<ReindexResult[]> => {
    const actions = d.info.recentActions.slice(-n);
    assert.equal(actions.length, n);
    return Promise.all(
      actions.map((a) => {
        assert.equal(a.action.type, 'startWorkflow');
        const wf = (a.action as { workflow: { workflowId: string; firstExecutionRunId: string } }).workflow;
        assert.match(wf.workflowId, new RegExp(`^reindex-${collection}`));
        return tc.client.workflow.getHandle(wf.workflowId, wf.firstExecutionRunId).result() as Promise<ReindexResult>;
      }),
    );
  };
  const ran = (r: ReindexResult) => {
    assert.equal(r.skipped, false, JSON.stringify(r));
    if (!r.skipped) assert.equal(r.counters.documentsUnchanged, files);
  };

  it('runs what each command says, and only that', async () => {
    const config = testConfig({}, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `sched-${collection}`, EMBEDDING_DIMENSIONS: '8' });
    worker = await startTestWorker(server, config);
    const dir = drillCorpus(files);
    await (await startIngest(tc.client, `${collection}-first`, drillInput(collection, dir))).result();

    // Created paused: the interval passes, nothing runs.
    await cli('create', collection, '--every', `${EVERY_S}s`, '--paused');
    await new Promise((r) => setTimeout(r, (EVERY_S + 2) * 1000));
    let d = await describeSchedule();
    assert.equal(d.state.paused, true);
    assert.equal(d.info.numActionsTaken, 0, 'a paused schedule started a run');

    // Unpaused: the interval fires by itself and the run re-indexes the collection.
    await cli('unpause', collection);
    d = await until('unpause: the interval did not start a run', (x) => x.info.numActionsTaken >= 1, (EVERY_S + 15) * 1000);
    await cli('pause', collection);
    d = await until('pause: a run is still going', (x) => x.state.paused && x.info.runningActions.length === 0);
    let taken = d.info.numActionsTaken;
    for (const r of await lastRuns(d, taken)) ran(r);

    // Trigger (while paused): one run now.
    await cli('trigger', collection);
    d = await until('trigger did not start a run', (x) => x.info.numActionsTaken === taken + 1);
    ran((await lastRuns(d, 1))[0]!);
    taken = d.info.numActionsTaken;

    // Overlap: with no worker the triggered run stays open; a second trigger is skipped.
    await worker.stop();
    worker = undefined;
    await cli('trigger', collection);
    d = await until('trigger did not start a run', (x) => x.info.numActionsTaken === taken + 1 && x.info.runningActions.length === 1);
    const skippedBefore = d.info.numActionsSkippedOverlap;
    await cli('trigger', collection);
    d = await until('the second trigger was not skipped', (x) => x.info.numActionsSkippedOverlap === skippedBefore + 1);
    assert.equal(d.info.numActionsTaken, taken + 1, 'an overlapping run was started');
    assert.equal(d.info.runningActions.length, 1);
    worker = await startTestWorker(server, config);
    ran((await lastRuns(d, 1))[0]!);
    taken = d.info.numActionsTaken;

    // Backfill a past period holding exactly 4 interval times (buffer_all: each runs in turn).
    const step = EVERY_S * 1000;
    const from = (Math.floor(Date.now() / step) - 10) * step + 1000;
    const to = from + 4 * step;
    await cli('backfill', collection, '--from', new Date(from).toISOString(), '--to', new Date(to).toISOString(), '--overlap', 'buffer_all');
    d = await until('backfill did not start 4 runs', (x) => x.info.numActionsTaken === taken + 4 && x.info.runningActions.length === 0, 60_000);
    const backfilled = await lastRuns(d, 4);
    for (const r of backfilled) ran(r);
    const times = d.info.recentActions.slice(-4).map((a) => a.scheduledAt.getTime());
    assert.ok(times.every((t) => t > from && t < to), `backfilled runs scheduled outside the period: ${times.map((t) => new Date(t).toISOString()).join(', ')}`);
    console.log(`schedule: ${d.info.numActionsTaken} runs started by the schedule, ${d.info.numActionsSkippedOverlap} skipped on overlap`);
  });

  it('a --full schedule warns that retired generations accumulate unless --keep-retired, which its runs carry', async () => {
    const other = uniqueCollection('it_schedfull');
    const argsOf = async () => {
      const d = await tc.client.schedule.getHandle(`reindex-${other}`).describe();
      return (d.action as { args?: unknown[] }).args?.[0];
    };
    try {
      const warned = await cli('create', other, '--every', '1h', '--full', '--paused');
      assert.match(warned.stderr, /every --full run builds a new generation .* without --keep-retired they accumulate/);
      assert.deepEqual(await argsOf(), { collection: other, full: true });
      await cli('delete', other);
      const kept = await cli('create', other, '--every', '1h', '--full', '--keep-retired', '2', '--paused');
      assert.doesNotMatch(kept.stderr, /accumulate/);
      assert.deepEqual(await argsOf(), { collection: other, full: true, keepRetired: 2 });
      await assert.rejects(cli('create', `${other}x`, '--every', '1h', '--keep-retired', 'two'), /--keep-retired must be a non-negative integer/);
    } finally {
      await cli('delete', other).catch(() => undefined);
    }
  });
});
