/**
 * Incremental: an unchanged re-index ÷ the first run, and embedding calls after a 1% change.
 *   npm run bench -- incremental [--files=1000,10000]   (default 1,000 files; smoke 100)
 */
import { readdirSync, appendFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildCorpus } from '../test/support/corpus';
import { tempDir } from '../test/support/env';
import { expectedRows, textHashes } from '../test/support/expected';
import { dropCollection, report, startStack, timedIngest } from './lib';

export async function incremental(smoke: boolean): Promise<void> {
  const listed = process.argv.find((a) => a.startsWith('--files='))?.slice('--files='.length).split(',').map(Number);
  for (const files of smoke ? [100] : listed ?? [1000]) await incrementalAt(files);
}

async function incrementalAt(files: number): Promise<void> {
  const dir = tempDir('vi-bench-incr-');
  const ids = buildCorpus(dir, { files, largeFiles: Math.ceil(files / 100), seed: 9 });
  const chunking = { chunkTokens: 256, overlapTokens: 32 };
  const collection = 'bench_incremental';
  const stack = await startStack({ model: `bench-incr-${Date.now()}`, emb: { latencyMs: 50 } });
  const input = { collection, source: { kind: 'directory' as const, path: dir }, chunking, pageSize: 200 };
  try {
    await dropCollection(collection);
    const first = await timedIngest(stack, `bench-incr-1-${Date.now()}`, input);
    stack.emb.reset();
    const again = await timedIngest(stack, `bench-incr-2-${Date.now()}`, input);
    const unchangedCalls = stack.emb.stats.requests;
    const before = textHashes(await expectedRows(collection, dir, chunking));
    const changed = ids.filter((_, i) => i % 100 === 50).slice(0, Math.max(1, Math.floor(files / 100)));
    for (const id of changed) appendFileSync(path.join(dir, id), `\n\nAn added paragraph about ${id} for the incremental benchmark.\n`);
    const newTexts = [...textHashes(await expectedRows(collection, dir, chunking))].filter((h) => !before.has(h)).length;
    stack.emb.reset();
    const delta = await timedIngest(stack, `bench-incr-3-${Date.now()}`, input);
    report(
      files === 1000 || files === 100 ? 'incremental' : `incremental-${files}`,
      [
        { run: 'first', documents: files, seconds: first.seconds, 'embedding requests': '-', 'texts embedded': first.result.counters.chunksEmbedded },
        { run: 'unchanged re-index', documents: files, seconds: again.seconds, 'embedding requests': unchangedCalls, 'texts embedded': again.result.counters.chunksEmbedded },
        { run: `after a 1% change (${changed.length} files)`, documents: files, seconds: delta.seconds, 'embedding requests': stack.emb.stats.requests, 'texts embedded': stack.emb.stats.inputs },
      ],
      [
        `unchanged ÷ first: ${(again.seconds / first.seconds).toFixed(3)} (target <= 0.05), with ${unchangedCalls} embedding calls`,
        `after the change: ${stack.emb.stats.inputs} texts embedded; chunk texts that are new: ${newTexts} (they must be equal)`,
        `(${readdirSync(dir).length} top-level entries in the corpus; provider latency 50 ms)`,
      ],
    );
  } finally {
    await stack.stop();
    await dropCollection(collection).catch(() => undefined);
  }
}
