export interface BatchRef {
  pageNo: number;
  batchNo: number;
}

/** What the window drives; each is the workflow's own, so commands happen where they always did. */
export interface BatchWindowHooks {
  /** Workflow `condition`. */
  waitUntil(fn: () => boolean): Promise<unknown>;
  /** Runs a batch; never rejects: it ends with `batchEnded()` and one of `landed`, `requeue` or `fail`. */
  run(batch: BatchRef): Promise<void>;
  /** Starts the commit of a page whose every batch landed (the activity's promise). */
  commitPage(pageNo: number): Promise<unknown>;
  /** After a page's commit came back. */
  committed(pageNo: number): void;
  /** True while nothing may be dispatched (the circuit is open). */
  paused(): boolean;
}

/**
 * The sliding window of batches: a page's batches wait in a queue until one of at most `size`
 * slots is free and dispatch is not paused; a page is committed once its last batch landed.
 * A fatal error (a batch's or a commit's) is kept and rethrown by the main loop's next wait, so
 * no promise in the window is left rejected and unhandled.
 */
export class BatchWindow {
  private readonly queue: BatchRef[] = [];
  private readonly pageRemaining = new Map<number, number>();
  private running = 0;
  private pendingCommits = 0;
  private failure: unknown;

  constructor(
    private readonly size: number,
    private readonly hooks: BatchWindowHooks,
  ) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Queues a page's batches and returns how many; a page with none is committed at once. */
  addPage(pageNo: number, batches: number): number {
    if (batches === 0) {
      void this.commit(pageNo);
      return 0;
    }
    this.pageRemaining.set(pageNo, batches);
    for (let b = 0; b < batches; b++) this.queue.push({ pageNo, batchNo: b });
    return batches;
  }

  /** A batch landed; the page's last one commits the page. */
  landed(pageNo: number): void {
    const left = (this.pageRemaining.get(pageNo) ?? 1) - 1;
    this.pageRemaining.set(pageNo, left);
    if (left === 0) {
      this.pageRemaining.delete(pageNo);
      void this.commit(pageNo);
    }
  }

  /** A batch hit an outage: it waits again, at the front (first when dispatch resumes) or at the back (after the others). */
  requeue(batch: BatchRef, where: 'front' | 'back'): void {
    if (where === 'front') this.queue.unshift(batch);
    else this.queue.push(batch);
  }

  /** A fatal error: the run fails with the first one. */
  fail(err: unknown): void {
    this.failure ??= err;
  }

  /** A dispatched batch's `run` is over, whatever its outcome. */
  batchEnded(): void {
    this.running--;
  }

  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Dispatches queued batches until at most `leave` wait in the queue. */
  async dispatch(leave = 0): Promise<void> {
    while (this.queue.length > leave) {
      await this.hooks.waitUntil(() => (this.running < this.size && !this.hooks.paused()) || this.failure !== undefined);
      this.throwIfFailed();
      const next = this.queue.shift();
      if (!next) continue;
      this.running++;
      void this.hooks.run(next);
    }
  }

  /** Everything dispatched, landed and committed (requeued batches included). */
  async drain(): Promise<void> {
    for (;;) {
      await this.dispatch(0);
      await this.hooks.waitUntil(() => this.queue.length > 0 || (this.running === 0 && this.pendingCommits === 0) || this.failure !== undefined);
      this.throwIfFailed();
      if (this.queue.length === 0 && this.running === 0 && this.pendingCommits === 0) return;
    }
  }

  private async commit(pageNo: number): Promise<void> {
    this.pendingCommits++;
    try {
      await this.hooks.commitPage(pageNo);
      this.hooks.committed(pageNo);
    } catch (err) {
      this.failure ??= err;
    } finally {
      this.pendingCommits--;
    }
  }
}
