import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { SA } from './search-attributes';
import type { EmbedQueueActivities } from '../activities';
import { collectionOrFail } from './validate';
import {
  DEFAULT_AUTO_RETRY_EVERY,
  DEFAULT_MAX_AUTO_ATTEMPTS,
  type FailedItem,
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

const REPLAY_CHUNK = 50;
const MAX_PAGE = 1000;
const HISTORY_EVENTS_BEFORE_CAN = 5000;

function parseDurationMs(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(s.trim());
  if (!m) throw ApplicationFailure.nonRetryable(`autoRetryEvery must look like 30s, 15m, 1h or 0, got ${JSON.stringify(s)}`, 'ConfigError');
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit]!;
}

/**
 * The failures of one collection, held by reference (document id, failed chunk ranges, error
 * type and message, attempts, first and last seen). Ingest activities add to it with
 * signal-with-start; a document that later lands leaves it. Operators list it with the
 * `failures` query and replay all, some ids or some error types with the `replay` update;
 * it also retries everything by itself on a slow timer. History stays bounded by
 * continue-as-new carrying only the list.
 */
export async function replayFailures(input: ReplayInput): Promise<void> {
  const collection = collectionOrFail(input?.collection);
  const autoEveryMs = parseDurationMs(input.autoRetryEvery ?? DEFAULT_AUTO_RETRY_EVERY);
  const maxAutoAttempts = input.maxAutoAttempts ?? DEFAULT_MAX_AUTO_ATTEMPTS;
  const items = new Map<string, FailedItem>((input.state?.items ?? []).map((i) => [i.documentId, i]));
  let spec: ReplaySpec | undefined = input.state?.replay;
  let autoRetries = input.state?.autoRetries ?? 0;
  let replaying = false;
  let nextAutoRetryAt: number | null = null;
  let shownCount = -1;
  let dirty = false;
  // What the Web UI shows: filterable attributes and a live summary of the list.
  const refresh = () => {
    if (input.searchAttributes && shownCount !== items.size) {
      upsertSearchAttributes([
        { key: SA.collection, value: collection },
        { key: SA.phase, value: 'failures' },
        { key: SA.documentsFailed, value: items.size },
      ]);
    }
    shownCount = items.size;
    const byType: Record<string, number> = {};
    for (const i of items.values()) byType[i.type] = (byType[i.type] ?? 0) + 1;
    setCurrentDetails(
      [
        `**${items.size} failed item(s)** in \`${collection}\`${replaying ? ' · replaying now' : ''}`,
        '',
        ...Object.entries(byType).map(([t, n]) => `- ${t}: ${n}`),
        nextAutoRetryAt === null ? '- automatic retry: off' : `- next automatic retry: ${new Date(nextAutoRetryAt).toISOString()}`,
      ].join('\n'),
    );
  };

  setHandler(recordFailuresSignal, (s) => {
    spec = s.replay ?? spec;
    const now = new Date().toISOString();
    dirty = true;
    for (const r of s.items) {
      const prev = items.get(r.documentId);
      const repeat = prev?.lastRunKey === s.runKey; // the same run reporting again (an activity retry)
      items.set(r.documentId, {
        ...r,
        attempts: (prev?.attempts ?? 0) + (repeat ? 0 : 1),
        firstSeen: prev?.firstSeen ?? now,
        lastSeen: now,
        lastRunKey: s.runKey,
      });
    }
  });

  setHandler(resolveFailuresSignal, (s) => {
    dirty = true;
    for (const id of s.documentIds) items.delete(id);
  });

  setHandler(failuresQuery, (q = {}) => {
    const all = [...items.values()].filter((i) => !q.type || i.type === q.type).sort((a, b) => (a.documentId < b.documentId ? -1 : 1));
    const byType: Record<string, number> = {};
    for (const i of items.values()) byType[i.type] = (byType[i.type] ?? 0) + 1;
    const offset = Math.max(0, q.offset ?? 0);
    const limit = Math.min(MAX_PAGE, Math.max(1, q.limit ?? 100));
    return {
      collection,
      total: all.length,
      byType,
      items: all.slice(offset, offset + limit),
      nextAutoRetryAt: nextAutoRetryAt === null ? null : new Date(nextAutoRetryAt).toISOString(),
      replaying,
    };
  });

  const replay = async (ids: string[]): Promise<ReplayOutcome> => {
    await condition(() => !replaying); // one replay at a time; a second one waits its turn
    replaying = true;
    refresh();
    const outcome: ReplayOutcome = { requested: ids.length, succeeded: [], stillFailing: [], vanished: [] };
    try {
      if (!spec) throw ApplicationFailure.nonRetryable('no ingest run has reported a source for this collection yet', 'ConfigError');
      for (let i = 0; i < ids.length; i += REPLAY_CHUNK) {
        const part = ids.slice(i, i + REPLAY_CHUNK).filter((id) => items.has(id));
        if (part.length === 0) continue;
        const res = await reprocessDocuments({ collection, replay: spec, documentIds: part, replayKey: `${workflowInfo().runId}-${i}` });
        const now = new Date().toISOString();
        for (const r of res.documents) {
          const prev = items.get(r.documentId);
          if (r.outcome === 'ok' || r.outcome === 'vanished') {
            items.delete(r.documentId);
            (r.outcome === 'ok' ? outcome.succeeded : outcome.vanished).push(r.documentId);
          } else if (prev) {
            items.set(r.documentId, {
              ...prev,
              type: r.type ?? prev.type,
              message: r.message ?? prev.message,
              chunkRanges: r.chunkRanges,
              attempts: prev.attempts + 1,
              lastSeen: now,
              lastRunKey: workflowInfo().runId,
            });
            outcome.stillFailing.push(r.documentId);
          }
        }
      }
      return outcome;
    } finally {
      replaying = false;
      dirty = true;
    }
  };

  setHandler(
    replayUpdate,
    (req) => {
      const ids = req.all ? [...items.keys()] : req.ids ? req.ids : [...items.values()].filter((i) => req.types!.includes(i.type)).map((i) => i.documentId);
      return replay(ids.sort());
    },
    {
      validator: (req: ReplayRequest) => {
        const modes = [req?.all === true, Array.isArray(req?.ids), Array.isArray(req?.types)].filter(Boolean).length;
        if (modes !== 1) throw new Error('replay takes exactly one of {"all":true}, {"ids":[...]} or {"types":[...]}');
        if (req.ids) {
          if (req.ids.length === 0) throw new Error('ids is empty');
          const unknown = req.ids.filter((id: string) => !items.has(id));
          if (unknown.length > 0) throw new Error(`not on the failure list: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`);
        }
        if (req.types && req.types.length === 0) throw new Error('types is empty');
        if (items.size === 0) throw new Error(`collection ${collection} has no failed items`);
      },
    },
  );

  nextAutoRetryAt = autoEveryMs > 0 ? Date.now() + autoEveryMs : null;
  const tooLong = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_EVENTS_BEFORE_CAN;
  for (;;) {
    refresh();
    dirty = false;
    const wake = () => dirty || tooLong();
    const remaining = nextAutoRetryAt === null ? undefined : Math.max(0, nextAutoRetryAt - Date.now());
    const woke = remaining === undefined ? await condition(wake).then(() => true) : await condition(wake, remaining);
    if (!woke) {
      const eligible = [...items.values()].filter((i) => i.attempts < maxAutoAttempts).map((i) => i.documentId).sort();
      if (eligible.length > 0 && spec) {
        autoRetries++;
        const out = await replay(eligible);
        log.info('automatic replay', { requested: out.requested, succeeded: out.succeeded.length, stillFailing: out.stillFailing.length });
      }
      nextAutoRetryAt = Date.now() + autoEveryMs;
    }
    if (tooLong()) {
      await condition(() => allHandlersFinished() && !replaying);
      await continueAsNew<typeof replayFailures>({ ...input, state: { items: [...items.values()], replay: spec, autoRetries } });
    }
  }
}
