import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EmbedQueueActivities, MainQueueActivities, UpsertQueueActivities } from '../../src/activities';
import { EMBED_ACTIVITIES, MAIN_ACTIVITIES, UPSERT_ACTIVITIES } from '../../src/activities';

// Compile-time half: `npm run build` (tsc over test/ too) fails if any @ts-expect-error below
// stops being an error, i.e. if a queue's proxy type lets a workflow call an activity that
// queue's worker does not register.
type Call<T, K extends string> = K extends keyof T ? T[K] : never;
// @ts-expect-error embedBatch is not registered on the main queue
const onMain: Call<MainQueueActivities, 'embedBatch'> = (() => undefined) as unknown as MainQueueActivities['embedBatch'];
// @ts-expect-error planPage is not registered on the embedding queue
const onEmbed: Call<EmbedQueueActivities, 'planPage'> = (() => undefined) as unknown as EmbedQueueActivities['planPage'];
// @ts-expect-error embedBatch is not registered on the upsert queue
const onUpsert: Call<UpsertQueueActivities, 'embedBatch'> = (() => undefined) as unknown as UpsertQueueActivities['embedBatch'];

describe('task queue activity typing', () => {
  it('each activity is registered on exactly one queue', () => {
    void [onMain, onEmbed, onUpsert];
    const all = [...MAIN_ACTIVITIES, ...EMBED_ACTIVITIES, ...UPSERT_ACTIVITIES];
    assert.equal(new Set(all).size, all.length);
  });
});
