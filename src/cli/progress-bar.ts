import { SingleBar } from 'cli-progress';
import type { IngestProgress } from '../contracts/ingest';
import { formatProgress } from './progress';

/**
 * Shows a run's progress on the terminal, fed by the workflow's `progress` query: a bar with
 * documents done of the total (when the source could be counted here), chunks written and
 * failed, rate and ETA. Without a terminal it prints a plain line every 10 s instead.
 */
export class ProgressView {
  private bar?: SingleBar;
  private lastLine = 0;
  private readonly started = Date.now();

  constructor(
    private readonly totalDocuments: number | undefined,
    private readonly tty = process.stderr.isTTY === true,
  ) {}

  update(p: IngestProgress): void {
    const c = p.counters;
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    if (!this.tty) {
      if (Date.now() - this.lastLine > 10_000) {
        process.stderr.write(`${formatProgress(p, Date.now() - this.started)}\n`);
        this.lastLine = Date.now();
      }
      return;
    }
    const payload = {
      phase: p.phase,
      chunks: c.chunksUpserted,
      failed: c.documentsFailed + c.chunksFailed,
      rate: (c.chunksUpserted / secs).toFixed(1),
      note: p.circuitOpen ? ' | provider down, waiting' : '',
    };
    if (!this.bar) {
      this.bar = new SingleBar({
        stream: process.stderr,
        format: `{phase} [{bar}] {value}/{total} docs | {chunks} chunks written, {failed} failed | {rate} chunks/s | ETA {eta_formatted}{note}`,
        hideCursor: true,
        etaBuffer: 20,
        fps: 5,
      });
      this.bar.start(this.totalDocuments ?? 0, 0, payload);
    }
    const total = this.totalDocuments ?? c.documentsListed;
    this.bar.setTotal(Math.max(total, c.documentsListed));
    this.bar.update(c.documentsListed, payload);
  }

  stop(): void {
    this.bar?.stop();
  }
}
