import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PagePlanner } from '../../src/workflows/page-planner';
import { settle } from '../support/conditions';

function planner(enabled: boolean, fail?: number) {
  const calls: string[] = [];
  const p = new PagePlanner<string>(enabled, async (pageNo, cursor) => {
    calls.push(`${pageNo}@${cursor}`);
    if (pageNo === fail) throw new Error(`page ${pageNo} failed`);
    return `plan ${pageNo}`;
  });
  return { p, calls };
}

describe('PagePlanner (plan-ahead)', () => {
  it('plans the page asked for when nothing was planned ahead', async () => {
    const { p, calls } = planner(true);
    assert.equal(await p.next(0, null), 'plan 0');
    assert.deepEqual(calls, ['0@null']);
  });

  it('hands out the page planned ahead without planning it again', async () => {
    const { p, calls } = planner(true);
    await p.next(0, null);
    p.planAhead(1, 'c0');
    assert.equal(p.hasAhead, true);
    assert.equal(await p.next(1, 'c0'), 'plan 1');
    assert.equal(p.hasAhead, false);
    assert.deepEqual(calls, ['0@null', '1@c0']);
  });

  it('plans nothing ahead when off (histories recorded before plan-ahead)', async () => {
    const { p, calls } = planner(false);
    p.planAhead(1, 'c0');
    assert.equal(p.hasAhead, false);
    assert.deepEqual(calls, []);
    assert.equal(await p.next(1, 'c0'), 'plan 1');
  });

  it('a page planned ahead that fails fails when it is asked for, not before', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { p } = planner(true, 1);
      p.planAhead(1, 'c0');
      await settle();
      await settle();
      assert.deepEqual(unhandled, []);
      await assert.rejects(p.next(1, 'c0'), /page 1 failed/);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
