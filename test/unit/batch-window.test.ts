import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchWindow, type BatchRef } from '../../src/workflows/batch-window';
import { deferred, settle, waitUntil } from '../support/conditions';

// The window of the ingest workflow on its own: batches "run" until the test finishes them.
function harness(size: number) {
  const running = new Map<string, { batch: BatchRef; done: ReturnType<typeof deferred<'landed' | 'front' | 'back' | Error>> }>();
  const log: string[] = [];
  const commits = new Map<number, ReturnType<typeof deferred<void>>>();
  let paused = false;
  let maxRunning = 0;
  const window: BatchWindow = new BatchWindow(size, {
    waitUntil,
    paused: () => paused,
    run: async (batch) => {
      const done = deferred<'landed' | 'front' | 'back' | Error>();
      running.set(`${batch.pageNo}/${batch.batchNo}`, { batch, done });
      maxRunning = Math.max(maxRunning, window.inFlight);
      log.push(`run ${batch.pageNo}/${batch.batchNo}`);
      const outcome = await done.promise;
      running.delete(`${batch.pageNo}/${batch.batchNo}`);
      if (outcome === 'landed') window.landed(batch.pageNo);
      else if (outcome instanceof Error) window.fail(outcome);
      else window.requeue(batch, outcome);
      window.batchEnded();
    },
    commitPage: (pageNo) => {
      log.push(`commit ${pageNo}`);
      const d = deferred<void>();
      commits.set(pageNo, d);
      return d.promise;
    },
    committed: (pageNo) => log.push(`committed ${pageNo}`),
  });
  const finish = async (id: string, outcome: 'landed' | 'front' | 'back' | Error = 'landed') => {
    const r = running.get(id);
    assert.ok(r, `${id} is not running (running: ${[...running.keys()].join(', ')})`);
    r.done.resolve(outcome);
    await settle();
  };
  return {
    window,
    log,
    running,
    commits,
    finish,
    pause: (p: boolean) => (paused = p),
    maxRunning: () => maxRunning,
  };
}

describe('BatchWindow', () => {
  it('runs at most `size` batches at once and dispatches the next one when a slot frees', async () => {
    const h = harness(2);
    h.window.addPage(0, 5);
    const dispatched = h.window.dispatch();
    await settle();
    assert.deepEqual([...h.running.keys()], ['0/0', '0/1']);
    assert.equal(h.window.queued, 3);
    await h.finish('0/0');
    await settle();
    assert.deepEqual([...h.running.keys()], ['0/1', '0/2']);
    await h.finish('0/1');
    await h.finish('0/2');
    await dispatched; // all 5 dispatched: 0/3 and 0/4 are running
    assert.equal(h.window.queued, 0);
    assert.equal(h.maxRunning(), 2);
  });

  it('commits a page once its last batch landed, and only then', async () => {
    const h = harness(4);
    h.window.addPage(0, 3);
    await h.window.dispatch();
    await h.finish('0/2');
    await h.finish('0/0');
    assert.ok(!h.log.includes('commit 0'), 'committed with a batch still running');
    await h.finish('0/1');
    assert.ok(h.log.includes('commit 0'));
    const drained = h.window.drain();
    let over = false;
    void drained.then(() => (over = true));
    await settle();
    assert.equal(over, false, 'drain returned while the commit was still running');
    h.commits.get(0)!.resolve();
    await drained;
    assert.deepEqual(h.log.slice(-2), ['commit 0', 'committed 0']);
  });

  it('commits an empty page at once, without dispatching anything', async () => {
    const h = harness(2);
    assert.equal(h.window.addPage(7, 0), 0);
    assert.deepEqual(h.log, ['commit 7']);
    h.commits.get(7)!.resolve();
    await h.window.drain();
    assert.deepEqual(h.log, ['commit 7', 'committed 7']);
  });

  it('sends an outage batch back to the front or the back of the queue', async () => {
    const h = harness(1);
    h.window.addPage(0, 3);
    const d = h.window.dispatch();
    await settle();
    await h.finish('0/0', 'back'); // rate-limited: after the others
    await settle();
    assert.deepEqual([...h.running.keys()], ['0/1']);
    await h.finish('0/1', 'front'); // outage: first again
    await settle();
    assert.deepEqual([...h.running.keys()], ['0/1']);
    await h.finish('0/1');
    await settle();
    assert.deepEqual([...h.running.keys()], ['0/2']);
    await h.finish('0/2');
    await d;
    await settle();
    assert.deepEqual([...h.running.keys()], ['0/0']);
    await h.finish('0/0');
    h.commits.get(0)!.resolve();
    await h.window.drain();
    assert.deepEqual(h.log.filter((l) => l.startsWith('run')), ['run 0/0', 'run 0/1', 'run 0/1', 'run 0/2', 'run 0/0']);
  });

  it('dispatches nothing while paused', async () => {
    const h = harness(3);
    h.pause(true);
    h.window.addPage(0, 2);
    void h.window.dispatch().catch(() => undefined);
    for (let i = 0; i < 20; i++) await settle();
    assert.equal(h.running.size, 0);
    h.pause(false);
    await settle();
    await settle();
    assert.equal(h.running.size, 2);
  });

  it("rethrows a batch's fatal error from the next wait, and dispatches nothing after it", async () => {
    const h = harness(1);
    h.window.addPage(0, 3);
    const failed = assert.rejects(h.window.dispatch(), /model does not exist/);
    await settle();
    await h.finish('0/0', new Error('model does not exist'));
    await failed;
    assert.throws(() => h.window.throwIfFailed(), /model does not exist/);
    assert.deepEqual(h.log, ['run 0/0']);
  });

  it("rethrows a commit's error from drain", async () => {
    const h = harness(1);
    h.window.addPage(0, 1);
    await h.window.dispatch();
    await h.finish('0/0');
    h.commits.get(0)!.reject(new Error('lease lost'));
    await assert.rejects(h.window.drain(), /lease lost/);
  });
});
