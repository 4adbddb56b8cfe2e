import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_VACUUM_POLICY, needsVacuum } from '../../src/state/vacuum';

describe('when a churn table of the state store is vacuumed', () => {
  it('never below the floor of dead rows, however few live ones there are', () => {
    assert.equal(needsVacuum({ live: 0, dead: DEFAULT_VACUUM_POLICY.minDead - 1 }), false);
    assert.equal(needsVacuum({ live: 0, dead: 0 }), false);
  });

  it('at the floor when the table is mostly dead (staging after a run: no live rows)', () => {
    assert.equal(needsVacuum({ live: 0, dead: DEFAULT_VACUUM_POLICY.minDead }), true);
    assert.equal(needsVacuum({ live: 1_008, dead: 315_576 }), true); // the bench database after the 100k-chunk run
  });

  it('on a big table only once the dead rows are a fifth of the live ones', () => {
    assert.equal(needsVacuum({ live: 1_000_000, dead: 199_999 }), false);
    assert.equal(needsVacuum({ live: 1_000_000, dead: 200_000 }), true);
  });

  it('follows a given policy', () => {
    const policy = { minDead: 100, deadPerLive: 1 };
    assert.equal(needsVacuum({ live: 50, dead: 99 }, policy), false);
    assert.equal(needsVacuum({ live: 150, dead: 120 }, policy), false);
    assert.equal(needsVacuum({ live: 120, dead: 120 }, policy), true);
  });
});
