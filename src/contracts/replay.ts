/**
 * Shapes of the replay workflow (one per collection) that holds items that failed for good.
 * Plain JSON; no Node imports (used inside the workflow sandbox).
 */
import type { BatchingOptions, ChunkingOptions, SourceSpec } from './ingest';

export function replayWorkflowId(collection: string): string {
  return `replay-${collection}`;
}

/** Where to read a collection's documents again, and how to chunk them: set by ingest runs. */
export interface ReplaySpec {
  source: SourceSpec;
  chunking: ChunkingOptions;
  batching: BatchingOptions;
}

/** A failure as reported by an activity. Items are documents; chunk failures name their chunks. */
export interface FailureReport {
  documentId: string;
  /** Inclusive [first, last] ranges of failed chunk indexes; absent when the whole document failed. */
  chunkRanges?: Array<[number, number]>;
  type: string;
  message: string;
}

export interface FailedItem extends FailureReport {
  /** Runs and replays in which it failed. */
  attempts: number;
  firstSeen: string;
  lastSeen: string;
  /** The run that last reported it (reports repeated by activity retries count once). */
  lastRunKey: string;
}

export interface RecordFailuresSignal {
  runKey: string;
  replay: ReplaySpec;
  items: FailureReport[];
}

export interface ResolveSignal {
  documentIds: string[];
}

export interface FailuresQuery {
  offset?: number;
  limit?: number;
  type?: string;
}

export interface FailuresPage {
  collection: string;
  total: number;
  byType: Record<string, number>;
  items: FailedItem[];
  nextAutoRetryAt: string | null;
  replaying: boolean;
  /** What replays (manual and automatic) did: how many replayed items landed and how many failed again. */
  replays: ReplayTotals;
}

/** How one replay ended: its items that landed, failed again, or left the source. */
export interface ReplayRecord {
  /** When it ended (workflow time, ISO 8601). */
  at: string;
  automatic: boolean;
  requested: number;
  landed: number;
  stillFailing: number;
  vanished: number;
  /** Set when the replay gave up (its activity failed): the counts are what it did before. */
  error?: string;
}

/** Replays of a collection's failures since its replay workflow started (kept across continue-as-new). */
export interface ReplayTotals {
  replays: number;
  automatic: number;
  landed: number;
  stillFailing: number;
  vanished: number;
  last?: ReplayRecord;
}

/** Exactly one of all / ids / types. */
export interface ReplayRequest {
  all?: boolean;
  ids?: string[];
  types?: string[];
}

export interface ReplayOutcome {
  requested: number;
  succeeded: string[];
  stillFailing: string[];
  /** Documents no longer in the source: nothing left to index, so they leave the list. */
  vanished: string[];
}

/** One line on what replays did, for people (the `failures` and `status` commands, the Web UI). */
export function describeReplays(t: ReplayTotals): string {
  const head = `${t.replays} replay(s), ${t.automatic} automatic: ${t.landed} item(s) landed, ${t.stillFailing} failed again, ${t.vanished} gone from the source`;
  const l = t.last;
  if (!l) return head;
  const what = `${l.landed} of ${l.requested} landed, ${l.stillFailing} failed again${l.vanished > 0 ? `, ${l.vanished} gone` : ''}`;
  return `${head}; last (${l.automatic ? 'automatic' : 'manual'}, ${l.at}): ${what}${l.error ? `; it gave up: ${l.error}` : ''}`;
}

export interface ReplayInput {
  collection: string;
  /** How often to retry everything on the list by itself, e.g. "1h"; "0" turns it off. */
  autoRetryEvery?: string;
  /** Automatic retries stop for an item after this many attempts (manual replay still works). */
  maxAutoAttempts?: number;
  /** The namespace has our search attributes: upsert Collection and DocumentsFailed. */
  searchAttributes?: boolean;
  /** Carried across continue-as-new. */
  state?: { items: FailedItem[]; replay?: ReplaySpec; autoRetries: number; replays?: ReplayTotals };
}

export const DEFAULT_AUTO_RETRY_EVERY = '1h';
export const DEFAULT_MAX_AUTO_ATTEMPTS = 10;
