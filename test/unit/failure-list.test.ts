import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailureList } from '../../src/workflows/failure-list';
import type { ReplayOutcome, ReplaySpec } from '../../src/contracts/replay';

const replay = { source: { kind: 'synthetic', documents: 1 } } as unknown as ReplaySpec;
const report = (documentId: string, type = 'DocumentUnreadable') => ({ documentId, type, message: `${documentId} is bad` });

describe('FailureList (what the replay workflow holds)', () => {
  it('records failures; the same run reporting again adds no attempt, another run does', () => {
    const l = new FailureList();
    l.record({ runKey: 'r1', replay, items: [report('a'), report('b')] }, 't1');
    l.record({ runKey: 'r1', replay, items: [report('a')] }, 't2'); // an activity retry of run r1
    l.record({ runKey: 'r2', replay, items: [report('a', 'InvalidInput')] }, 't3');
    const a = l.all().find((i) => i.documentId === 'a')!;
    assert.equal(a.attempts, 2);
    assert.equal(a.firstSeen, 't1');
    assert.equal(a.lastSeen, 't3');
    assert.equal(a.type, 'InvalidInput');
    assert.equal(l.size, 2);
    l.resolve(['b', 'unknown']);
    assert.deepEqual(l.all().map((i) => i.documentId), ['a']);
  });

  it('pages the list sorted by id, filtered by type, with counts by type', () => {
    const l = new FailureList();
    l.record({ runKey: 'r', replay, items: ['d', 'b', 'a', 'c'].map((id) => report(id, id === 'c' ? 'InvalidInput' : 'DocumentUnreadable')) }, 't');
    const page = l.page({ offset: 1, limit: 2 }, 'docs', { nextAutoRetryAt: null, replaying: false });
    assert.deepEqual(page.items.map((i) => i.documentId), ['b', 'c']);
    assert.equal(page.total, 4);
    assert.deepEqual(page.byType, { DocumentUnreadable: 3, InvalidInput: 1 });
    assert.deepEqual(l.page({ type: 'InvalidInput' }, 'docs', { nextAutoRetryAt: null, replaying: true }).items.map((i) => i.documentId), ['c']);
    assert.equal(l.page({ limit: 1_000_000 }, 'docs', { nextAutoRetryAt: null, replaying: false }).items.length, 4);
  });

  it('selects what a replay request names and refuses a malformed one with a reason', () => {
    const l = new FailureList();
    assert.match(l.refusal({ all: true }, 'docs')!, /collection docs has no failed items/);
    l.record({ runKey: 'r', replay, items: [report('a'), report('b', 'InvalidInput')] }, 't');
    assert.deepEqual(l.select({ all: true }).sort(), ['a', 'b']);
    assert.deepEqual(l.select({ ids: ['b'] }), ['b']);
    assert.deepEqual(l.select({ types: ['InvalidInput'] }), ['b']);
    assert.equal(l.refusal({ all: true }, 'docs'), undefined);
    assert.match(l.refusal({ all: true, ids: ['a'] }, 'docs')!, /exactly one of/);
    assert.match(l.refusal({ ids: [] }, 'docs')!, /ids is empty/);
    assert.match(l.refusal({ ids: ['a', 'zz'] }, 'docs')!, /not on the failure list: zz/);
    assert.match(l.refusal({ types: [] }, 'docs')!, /types is empty/);
  });

  it("applies a replay's outcome: landed and vanished leave, still failing count an attempt", () => {
    const l = new FailureList();
    l.record({ runKey: 'r', replay, items: [report('a'), report('b'), report('c')] }, 't');
    const outcome: ReplayOutcome = { requested: 3, succeeded: [], stillFailing: [], vanished: [] };
    l.applyOutcome(
      [
        { documentId: 'a', outcome: 'ok' },
        { documentId: 'b', outcome: 'vanished' },
        { documentId: 'c', outcome: 'failed', type: 'InvalidInput', message: 'still bad', chunkRanges: [[2, 3]] },
      ],
      't2',
      'replay-run',
      outcome,
    );
    assert.deepEqual(outcome, { requested: 3, succeeded: ['a'], stillFailing: ['c'], vanished: ['b'] });
    const [c] = l.all();
    assert.deepEqual({ id: c!.documentId, attempts: c!.attempts, type: c!.type, ranges: c!.chunkRanges, last: c!.lastRunKey }, { id: 'c', attempts: 2, type: 'InvalidInput', ranges: [[2, 3]], last: 'replay-run' });
    assert.deepEqual(l.eligible(2), []);
    assert.deepEqual(l.eligible(3), ['c']);
  });
});
