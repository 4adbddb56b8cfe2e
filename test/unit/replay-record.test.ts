import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFailureRecord } from '../../src/cli/replay-record';

// What `status` prints of a collection's failure record: what still fails, and what replays did.
describe('status: the failure record', () => {
  it('says how many failures are on record and what the replays landed', () => {
    const replays = { replays: 3, automatic: 2, landed: 5, stillFailing: 2, vanished: 1, last: { at: '2026-11-26T04:00:00.000Z', automatic: true, requested: 3, landed: 1, stillFailing: 2, vanished: 0 } };
    assert.deepEqual(formatFailureRecord({ total: 2, byType: { InvalidUtf8: 2 }, replays }), [
      'failures on record now: 2 (InvalidUtf8 2)',
      '3 replay(s), 2 automatic: 5 item(s) landed, 2 failed again, 1 gone from the source; last (automatic, 2026-11-26T04:00:00.000Z): 1 of 3 landed, 2 failed again',
    ]);
    const gaveUp = { ...replays, replays: 1, automatic: 1, landed: 0, stillFailing: 0, vanished: 0, last: { ...replays.last, landed: 0, stillFailing: 0, error: 'collection docs is being written by run r1' } };
    assert.match(formatFailureRecord({ total: 2, byType: {}, replays: gaveUp })[1]!, /0 of 3 landed, 0 failed again; it gave up: collection docs is being written by run r1$/);
    assert.deepEqual(formatFailureRecord({ total: 0, byType: {}, replays: { replays: 0, automatic: 0, landed: 0, stillFailing: 0, vanished: 0 } }), ['failures on record now: 0']);
  });
});
