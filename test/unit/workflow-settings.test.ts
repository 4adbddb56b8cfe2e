import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { DEFAULT_BATCHING, DEFAULT_MAX_IN_FLIGHT, DEFAULT_TIMEOUTS, type IngestInput } from '../../src/contracts/ingest';
import { parseDurationMs } from '../../src/workflows/duration';
import { ingestSettings } from '../../src/workflows/ingest-settings';
import { errorText, isOutage, isRateLimited } from '../../src/workflows/outage';

const activityFailure = (cause: Error) => new ActivityFailure('activity failed', 'embedBatch', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, undefined, cause);

describe('ingestSettings', () => {
  const source = { kind: 'directory' as const, path: '/data/docs' };
  it('fills in the defaults and names the source', () => {
    const s = ingestSettings({ collection: 'docs', source, batching: { maxChunks: 16 } });
    assert.equal(s.window, DEFAULT_MAX_IN_FLIGHT);
    assert.deepEqual(s.timeouts, DEFAULT_TIMEOUTS);
    assert.deepEqual(s.batching, { ...DEFAULT_BATCHING, maxChunks: 16 });
    assert.equal(s.sourceLabel, '/data/docs');
    assert.equal(s.full, false);
    assert.equal(ingestSettings({ collection: 'docs', source: { kind: 'synthetic', documents: 1 } }).sourceLabel, 'synthetic source');
  });

  it("gives every run its collection as fairness key, with the weight and priority it asks for", () => {
    assert.deepEqual(ingestSettings({ collection: 'docs', source }).priority, { fairnessKey: 'docs' });
    assert.deepEqual(ingestSettings({ collection: 'docs', source, priority: { priorityKey: 2, fairnessWeight: 0.5 } }).priority, { fairnessKey: 'docs', priorityKey: 2, fairnessWeight: 0.5 });
  });

  for (const [input, message] of [
    [{ collection: 'docs', source, priority: { priorityKey: 6 } }, /priority.priorityKey must be an integer from 1 to 5/],
    [{ collection: 'docs', source, priority: { fairnessWeight: 0 } }, /priority.fairnessWeight must be a number from 0.001 to 1000/],
    [{ collection: 'docs' }, /source is required/],
    [{ collection: 'docs', source, maxInFlightBatches: 0 }, /maxInFlightBatches must be an integer from 1 to 500, got 0/],
    [{ collection: 'docs', source, pageSize: 2.5 }, /pageSize must be an integer/],
    [{ collection: 'docs', source, timeouts: { embedSeconds: -1 } }, /timeouts.embedSeconds must be an integer/],
    [{ collection: 'Bad Name', source }, /collection name "Bad Name" is not allowed/],
  ] as Array<[Partial<IngestInput>, RegExp]>) {
    it(`refuses ${JSON.stringify(input)} with a ConfigError`, () => {
      assert.throws(() => ingestSettings(input as IngestInput), (e: unknown) => e instanceof ApplicationFailure && e.type === 'ConfigError' && e.nonRetryable && message.test(e.message));
    });
  }
});

describe('outage classification', () => {
  it('a retryable provider or store failure, a rate limit or a timeout is an outage; a bad batch is not', () => {
    assert.equal(isOutage(activityFailure(ApplicationFailure.retryable('503', 'ProviderUnavailable'))), true);
    assert.equal(isOutage(activityFailure(ApplicationFailure.retryable('refused', 'StoreUnavailable'))), true);
    assert.equal(isOutage(activityFailure(ApplicationFailure.create({ message: '429', type: 'RateLimited' }))), true);
    assert.equal(isOutage(activityFailure(new TimeoutFailure('timed out', undefined, TimeoutType.HEARTBEAT))), true);
    assert.equal(isOutage(activityFailure(ApplicationFailure.nonRetryable('no model', 'ModelNotFound'))), false);
    assert.equal(isOutage(activityFailure(ApplicationFailure.nonRetryable('503', 'ProviderUnavailable'))), false);
    assert.equal(isOutage(new Error('not an activity')), false);
    assert.equal(isRateLimited(activityFailure(ApplicationFailure.create({ message: '429', type: 'RateLimited' }))), true);
    assert.equal(isRateLimited(activityFailure(ApplicationFailure.retryable('503', 'ProviderUnavailable'))), false);
  });

  it('errorText names the type and message of the cause', () => {
    assert.equal(errorText(activityFailure(ApplicationFailure.retryable('503 Service Unavailable', 'ProviderUnavailable'))), 'ProviderUnavailable: 503 Service Unavailable');
    assert.equal(errorText('plain'), 'plain');
  });
});

describe('parseDurationMs (replay autoRetryEvery)', () => {
  it('reads units and bare seconds', () => {
    assert.equal(parseDurationMs('30s'), 30_000);
    assert.equal(parseDurationMs('15m'), 900_000);
    assert.equal(parseDurationMs('1h'), 3_600_000);
    assert.equal(parseDurationMs('2d'), 172_800_000);
    assert.equal(parseDurationMs('250ms'), 250);
    assert.equal(parseDurationMs(' 90 '), 90_000);
    assert.equal(parseDurationMs('0'), 0);
  });
  it('refuses anything else with a ConfigError', () => {
    assert.throws(() => parseDurationMs('an hour'), (e: unknown) => e instanceof ApplicationFailure && e.type === 'ConfigError' && /autoRetryEvery must look like/.test(e.message));
  });
});
