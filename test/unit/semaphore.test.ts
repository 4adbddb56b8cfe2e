import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Semaphore } from '../../src/activities/semaphore';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Semaphore', () => {
  it('lets at most `size` holders run at once, the others in arrival order, and frees a slot on a throw', async () => {
    const s = new Semaphore(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const job = (i: number) =>
      s.run(async () => {
        running++;
        most = Math.max(most, running);
        order.push(i);
        await sleep(5);
        running--;
        if (i === 1) throw new Error('boom');
        return i;
      });
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map(job));
    assert.equal(most, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    assert.equal(results[1]!.status, 'rejected');
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
    assert.equal(s.inUse, 0);
  });

  it('hands a freed slot to a waiter before a newcomer', async () => {
    const s = new Semaphore(1);
    const order: string[] = [];
    let release!: () => void;
    const first = s.run(() => new Promise<void>((r) => (release = r)).then(() => order.push('first')));
    const waiter = s.run(async () => order.push('waiter'));
    await sleep(1);
    release();
    await first;
    const newcomer = s.run(async () => order.push('newcomer'));
    await Promise.all([waiter, newcomer]);
    assert.deepEqual(order, ['first', 'waiter', 'newcomer']);
  });
});
