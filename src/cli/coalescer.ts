/**
 * Runs `work` whenever asked, one at a time: requests that arrive while a run is going are
 * coalesced into one more run after it. `idle()` resolves when nothing runs or waits.
 */
export class Coalescer {
  private running: Promise<void> | undefined;
  private pending = false;
  private stopped = false;

  constructor(private readonly work: () => Promise<void>) {}

  request(): void {
    if (this.stopped) return;
    this.pending = true;
    this.running ??= this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    while (this.pending && !this.stopped) {
      this.pending = false;
      await this.work();
    }
  }

  /** No more runs start; resolves when the current one (if any) is over. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}
