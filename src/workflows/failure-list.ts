import type { ReprocessedDocument } from '../activities/reprocess';
import type { FailedItem, FailuresPage, FailuresQuery, RecordFailuresSignal, ReplayOutcome, ReplayRequest } from '../contracts/replay';

const MAX_PAGE = 1000;

/**
 * The failed items of a collection by document id (what the replay workflow holds and carries
 * across continue-as-new): recorded from ingest runs, resolved when a document lands, updated by
 * each replay's outcome. Plain data, no Temporal calls.
 */
export class FailureList {
  private readonly items: Map<string, FailedItem>;

  constructor(items: FailedItem[] = []) {
    this.items = new Map(items.map((i) => [i.documentId, i]));
  }

  get size(): number {
    return this.items.size;
  }

  has(documentId: string): boolean {
    return this.items.has(documentId);
  }

  all(): FailedItem[] {
    return [...this.items.values()];
  }

  /** Reports of a run; the same run reporting again (an activity retry) does not add an attempt. */
  record(s: RecordFailuresSignal, now: string): void {
    for (const r of s.items) {
      const prev = this.items.get(r.documentId);
      const repeat = prev?.lastRunKey === s.runKey;
      this.items.set(r.documentId, { ...r, attempts: (prev?.attempts ?? 0) + (repeat ? 0 : 1), firstSeen: prev?.firstSeen ?? now, lastSeen: now, lastRunKey: s.runKey });
    }
  }

  resolve(documentIds: string[]): void {
    for (const id of documentIds) this.items.delete(id);
  }

  byType(): Record<string, number> {
    const byType: Record<string, number> = {};
    for (const i of this.items.values()) byType[i.type] = (byType[i.type] ?? 0) + 1;
    return byType;
  }

  /** One page of the list, sorted by document id, optionally of one error type. */
  page(q: FailuresQuery, collection: string, extra: Pick<FailuresPage, 'nextAutoRetryAt' | 'replaying'>): Omit<FailuresPage, 'replays'> {
    const all = this.all().filter((i) => !q.type || i.type === q.type).sort((a, b) => (a.documentId < b.documentId ? -1 : 1));
    const offset = Math.max(0, q.offset ?? 0);
    const limit = Math.min(MAX_PAGE, Math.max(1, q.limit ?? 100));
    return { collection, total: all.length, byType: this.byType(), items: all.slice(offset, offset + limit), ...extra };
  }

  /** The document ids a replay request names (unsorted). */
  select(req: ReplayRequest): string[] {
    if (req.all) return [...this.items.keys()];
    if (req.ids) return req.ids;
    return this.all().filter((i) => req.types!.includes(i.type)).map((i) => i.documentId);
  }

  /** Why a replay request cannot run, or undefined when it can. */
  refusal(req: ReplayRequest, collection: string): string | undefined {
    const modes = [req?.all === true, Array.isArray(req?.ids), Array.isArray(req?.types)].filter(Boolean).length;
    if (modes !== 1) return 'replay takes exactly one of {"all":true}, {"ids":[...]} or {"types":[...]}';
    if (req.ids) {
      if (req.ids.length === 0) return 'ids is empty';
      const unknown = req.ids.filter((id: string) => !this.items.has(id));
      if (unknown.length > 0) return `not on the failure list: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`;
    }
    if (req.types && req.types.length === 0) return 'types is empty';
    if (this.items.size === 0) return `collection ${collection} has no failed items`;
    return undefined;
  }

  /** Items due an automatic retry: fewer than `maxAttempts` attempts, sorted. */
  eligible(maxAttempts: number): string[] {
    return this.all().filter((i) => i.attempts < maxAttempts).map((i) => i.documentId).sort();
  }

  /** A reprocess result: landed and vanished documents leave the list, failing ones count an attempt. */
  applyOutcome(results: ReprocessedDocument[], now: string, runId: string, outcome: ReplayOutcome): void {
    for (const r of results) {
      const prev = this.items.get(r.documentId);
      if (r.outcome === 'ok' || r.outcome === 'vanished') {
        this.items.delete(r.documentId);
        (r.outcome === 'ok' ? outcome.succeeded : outcome.vanished).push(r.documentId);
      } else if (prev) {
        this.items.set(r.documentId, {
          ...prev,
          type: r.type ?? prev.type,
          message: r.message ?? prev.message,
          chunkRanges: r.chunkRanges,
          attempts: prev.attempts + 1,
          lastSeen: now,
          lastRunKey: runId,
        });
        outcome.stillFailing.push(r.documentId);
      }
    }
  }
}
