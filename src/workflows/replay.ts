import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { EmbedQueueActivities } from '../activities';
import { collectionOrFail } from './validate';
import { parseDurationMs } from './duration';
import { FailureList } from './failure-list';
import { ReplayVisibility } from './replay-visibility';
import { ReplayTally } from './replay-totals';
import {
  DEFAULT_AUTO_RETRY_EVERY,
  DEFAULT_MAX_AUTO_ATTEMPTS,
  type FailuresPage,
  type FailuresQuery,
  type RecordFailuresSignal,
  type ReplayInput,
  type ReplayOutcome,
  type ReplayRequest,
  type ReplaySpec,
  type ResolveSignal,
} from '../contracts/replay';
import { NON_RETRYABLE_TYPES } from '../contracts/error-types';
import { EMBED_TASK_QUEUE } from '../contracts/ingest';

export const recordFailuresSignal = defineSignal<[RecordFailuresSignal]>('recordFailures');
export const resolveFailuresSignal = defineSignal<[ResolveSignal]>('resolveFailures');
export const failuresQuery = defineQuery<FailuresPage, [FailuresQuery?]>('failures');
export const replayUpdate = defineUpdate<ReplayOutcome, [ReplayRequest]>('replay');

// Reprocessing embeds, so it runs on the embedding queue and shares its slots and rate.
const { reprocessDocuments } = proxyActivities<EmbedQueueActivities>({
  taskQueue: EMBED_TASK_QUEUE,
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
});

/** Documents per reprocess activity. */
const REPLAY_CHUNK = 50;
const HISTORY_EVENTS_BEFORE_CAN = 5000;

/**
 * The failures of one collection, held by reference (document id, failed chunk ranges, error
 * type and message, attempts, first and last seen) in a FailureList. Ingest activities add to it
 * with signal-with-start; a document that later lands leaves it. Operators list it with the
 * `failures` query and replay all, some ids or some error types with the `replay` update; it
 * also retries everything by itself on a slow timer. History stays bounded by continue-as-new
 * carrying only the list.
 */
export async function replayFailures(input: ReplayInput): Promise<void> {
  const collection = collectionOrFail(input?.collection);
  const autoEveryMs = parseDurationMs(input.autoRetryEvery ?? DEFAULT_AUTO_RETRY_EVERY);
  const maxAutoAttempts = input.maxAutoAttempts ?? DEFAULT_MAX_AUTO_ATTEMPTS;
  const items = new FailureList(input.state?.items);
  const visibility = new ReplayVisibility(collection, input.searchAttributes === true);
  let spec: ReplaySpec | undefined = input.state?.replay;
  let autoRetries = input.state?.autoRetries ?? 0;
  const tally = new ReplayTally(input.state?.replays);
  let replaying = false;
  let nextAutoRetryAt: number | null = null;
  let dirty = false;

  setHandler(recordFailuresSignal, (s) => {
    spec = s.replay ?? spec;
    dirty = true;
    items.record(s, new Date().toISOString());
  });
  setHandler(resolveFailuresSignal, (s) => {
    dirty = true;
    items.resolve(s.documentIds);
  });
  setHandler(failuresQuery, (q = {}) => ({
    ...items.page(q, collection, { nextAutoRetryAt: nextAutoRetryAt === null ? null : new Date(nextAutoRetryAt).toISOString(), replaying }),
    replays: tally.totals(),
  }));

  const replay = async (ids: string[], automatic: boolean): Promise<ReplayOutcome> => {
    await condition(() => !replaying); // one replay at a time; a second one waits its turn
    replaying = true;
    visibility.show(items, replaying, nextAutoRetryAt, tally.totals());
    const outcome: ReplayOutcome = { requested: ids.length, succeeded: [], stillFailing: [], vanished: [] };
    try {
      if (!spec) throw ApplicationFailure.nonRetryable('no ingest run has reported a source for this collection yet', 'ConfigError');
      for (let i = 0; i < ids.length; i += REPLAY_CHUNK) {
        const part = ids.slice(i, i + REPLAY_CHUNK).filter((id) => items.has(id));
        if (part.length === 0) continue;
        const res = await reprocessDocuments({ collection, replay: spec, documentIds: part, replayKey: `${workflowInfo().runId}-${i}` });
        items.applyOutcome(res.documents, new Date().toISOString(), workflowInfo().runId, outcome);
      }
      tally.add(outcome, automatic, new Date().toISOString());
      return outcome;
    } catch (err) {
      tally.add(outcome, automatic, new Date().toISOString(), (err instanceof ActivityFailure ? err.cause?.message : undefined) ?? (err as Error).message);
      throw err;
    } finally {
      replaying = false;
      dirty = true;
    }
  };

  setHandler(replayUpdate, (req) => replay(items.select(req).sort(), false), {
    validator: (req: ReplayRequest) => {
      const why = items.refusal(req, collection);
      if (why !== undefined) throw new Error(why);
    },
  });

  nextAutoRetryAt = autoEveryMs > 0 ? Date.now() + autoEveryMs : null;
  const tooLong = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_EVENTS_BEFORE_CAN;
  for (;;) {
    visibility.show(items, replaying, nextAutoRetryAt, tally.totals());
    dirty = false;
    const wake = () => dirty || tooLong();
    const remaining = nextAutoRetryAt === null ? undefined : Math.max(0, nextAutoRetryAt - Date.now());
    const woke = remaining === undefined ? await condition(wake).then(() => true) : await condition(wake, remaining);
    if (!woke) {
      const eligible = items.eligible(maxAutoAttempts);
      if (eligible.length > 0 && spec) {
        autoRetries++;
        try {
          const out = await replay(eligible, true);
          log.info('automatic replay', { requested: out.requested, succeeded: out.succeeded.length, stillFailing: out.stillFailing.length });
        } catch (err) {
          // The activity gave up (the collection busy with a run, the database down for long):
          // that must not end the workflow holding the list. The items stay; the next interval tries again.
          if (!(err instanceof ActivityFailure)) throw err;
          log.warn('automatic replay failed; the items stay on the list', { error: err.cause?.message ?? err.message });
        }
      }
      nextAutoRetryAt = Date.now() + autoEveryMs;
    }
    if (tooLong()) {
      await condition(() => allHandlersFinished() && !replaying);
      await continueAsNew<typeof replayFailures>({ ...input, state: { items: items.all(), replay: spec, autoRetries, replays: tally.totals() } });
    }
  }
}
