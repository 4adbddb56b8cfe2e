/**
 * A counting semaphore inside one worker process: at most `size` holders at once, the others
 * wait in arrival order. The fused batch activity (fused.ts) holds one slot of the embedding
 * budget only while it asks the provider and one of the write budget only while it writes, so
 * its activity slots on the embedding queue can outnumber either budget without exceeding it.
 */
export class Semaphore {
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!(size >= 1)) throw new Error(`a semaphore needs at least one slot, got ${size}`);
  }

  get inUse(): number {
    return this.held;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.held < this.size) this.held++;
    // A releasing holder hands its slot over directly (held stays the same), so no newcomer can take it first.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.held--;
    }
  }
}

/** The worker's in-process budgets: provider work (embedConcurrency) and sink writes (upsertConcurrency). */
export interface BatchSlots {
  embed: Semaphore;
  write: Semaphore;
}

export function batchSlots(embedConcurrency: number, upsertConcurrency: number): BatchSlots {
  return { embed: new Semaphore(embedConcurrency), write: new Semaphore(upsertConcurrency) };
}
