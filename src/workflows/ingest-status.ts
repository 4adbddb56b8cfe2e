import { log } from '@temporalio/workflow';
import { IngestVisibility } from './ingest-visibility';
import type { PlanResult } from '../activities';
import type { IngestCarry, IngestCounters, IngestPhase, IngestProgress } from '../contracts/ingest';

/** Live figures of the window and the circuit, read when the status is shown. */
export interface Load {
  inFlight: number;
  queued: number;
  circuitOpen: boolean;
}

/**
 * What a run tells about itself: its phase and last error, answered to the `progress` query and
 * shown in the Web UI (through IngestVisibility: search attributes and current details).
 */
export class IngestStatus {
  phase: IngestPhase;
  lastError: string | null = null;
  private visibility: IngestVisibility;

  constructor(
    private readonly collection: string,
    private readonly sourceLabel: string,
    private readonly carry: IngestCarry,
    private readonly counters: IngestCounters,
    resumed: boolean,
    private readonly load: () => Load,
  ) {
    this.phase = resumed ? 'ingesting' : 'preparing';
    this.visibility = new IngestVisibility(collection, sourceLabel, carry.searchAttributes === true);
  }

  /** The namespace has (or lacks) our search attributes, as the prepare step found. */
  useSearchAttributes(on: boolean): void {
    this.visibility = new IngestVisibility(this.collection, this.sourceLabel, on);
  }

  /** Moves to a phase: search attributes (one history event each) and details. */
  enter(phase: IngestPhase): void {
    this.phase = phase;
    this.visibility.phase(phase, this.counters);
    this.show();
  }

  /** Counters as search attributes (after a page commit; a no-op when they did not change). */
  committed(): void {
    this.visibility.counters(this.counters);
  }

  /** A page's failed documents: logged, and the first is the run's last error. */
  planned(plan: PlanResult): void {
    for (const f of plan.failures) log.warn('document failed', { documentId: f.documentId, type: f.type, message: f.message });
    if (plan.failed > 0) this.lastError = `${plan.failures[0]?.type}: ${plan.failures[0]?.message}`;
    this.show();
  }

  /** Current details (outside history): cheap, shown on every change. */
  show(): void {
    const { inFlight, queued, circuitOpen } = this.load();
    this.visibility.details({ phase: this.phase, c: this.counters, startedAt: this.carry.startedAt, inFlight, queued, circuitOpen, lastError: this.lastError });
  }

  progress(): IngestProgress {
    const { inFlight, queued, circuitOpen } = this.load();
    return {
      collection: this.collection,
      phase: this.phase,
      runKey: this.carry.runKey,
      cursor: this.carry.cursor,
      inFlightBatches: inFlight,
      queuedBatches: queued,
      continuedAsNew: this.carry.continuedAsNew,
      startedAt: this.carry.startedAt,
      circuitOpen,
      lastError: this.lastError,
      counters: { ...this.counters },
    };
  }
}
