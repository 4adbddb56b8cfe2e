import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { whileHeartbeating } from '../../src/activities/context';

// Every heartbeat an activity sends at once is a request to the Temporal server (the SDK
// throttles only the later ones). Batches take well under the heartbeat interval, so an
// activity heartbeats only once it has run that long: the timeout counts from its start anyway.
describe('activity heartbeats', () => {
  it('an activity shorter than its heartbeat interval sends none', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    assert.equal(await env.run(() => whileHeartbeating(async () => 'done', 60_000)), 'done');
    assert.deepEqual(beats, []);
  });

  it('a longer one heartbeats while it works', async () => {
    const env = new MockActivityEnvironment();
    let beats = 0;
    // the work ends only once a heartbeat was sent, so the test needs no clock
    const out = await env.run(() =>
      whileHeartbeating(
        () =>
          new Promise<string>((resolve) =>
            env.on('heartbeat', () => {
              beats++;
              resolve('done');
            }),
          ),
        10,
      ),
    );
    assert.equal(out, 'done');
    assert.ok(beats >= 1);
  });
});
