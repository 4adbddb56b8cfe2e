import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import * as path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { failuresQuery, ingestCollection, replayUpdate } from '../../src/workflows';
import { replayWorkflowId, type FailuresPage } from '../../src/contracts/replay';
import { TASK_QUEUE, type IngestInput, type IngestResult } from '../../src/contracts/ingest';
import { buildCorpus } from '../support/corpus';
import { startTemporal, startTestWorker, tempDir, testClient, testConfig, uniqueCollection, withPg, type TestWorker } from '../support/env';

const exec = promisify(execFile);
const POISON = 'POISON-CHUNK-MARKER';
const isRoot = process.getuid?.() === 0;

// The bad-input matrix and the replay workflow, on real Temporal + Postgres + HTTP embeddings.
// Every bad item must end up on the replay list with a clear reason while everything else lands.
describe('bad input is isolated, listed and replayable', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let dir: string;
  const collection = uniqueCollection('it_fail');
  const GOOD = 30;

  const ingest = async (n: number): Promise<IngestResult> => {
    const input: IngestInput = { collection, source: { kind: 'directory', path: dir }, chunking: { chunkTokens: 120, overlapTokens: 0 }, pageSize: 16 };
    const h = await tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `${collection}-${n}`, args: [input] });
    return h.result();
  };
  const replayHandle = () => tc.client.workflow.getHandle(replayWorkflowId(collection));
  const failures = (): Promise<FailuresPage> => replayHandle().query(failuresQuery, { limit: 100 });
  const rows = (doc?: string) =>
    withPg(async (c) => (await c.query(`SELECT count(*)::int AS n FROM public.${collection} ${doc ? 'WHERE document_id = $1' : ''}`, doc ? [doc] : [])).rows[0].n as number);

  before(async () => {
    dir = tempDir('vi-bad-');
    buildCorpus(dir, { files: GOOD, largeFiles: 0 });
    mkdirSync(path.join(dir, 'bad'));
    writeFileSync(path.join(dir, 'bad/binary.txt'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]));
    writeFileSync(path.join(dir, 'bad/latin1.txt'), Buffer.from('caf\xe9 cr\xe8me br\xfbl\xe9e', 'latin1'));
    writeFileSync(path.join(dir, 'bad/empty.md'), '');
    writeFileSync(path.join(dir, 'bad/huge.txt'), Buffer.alloc(51 * 1024 * 1024, 'ab '));
    symlinkSync('loop.md', path.join(dir, 'bad/loop.md'));
    writeFileSync(path.join(dir, 'bad/locked.md'), '# Locked\n\nThis file has mode 000.');
    chmodSync(path.join(dir, 'bad/locked.md'), 0o000);
    const paras = Array.from({ length: 6 }, (_, i) => `Paragraph ${i} of the poisoned document talks about ${'retries and batches '.repeat(20)}.`);
    paras[3] = `${POISON} ${'this chunk is rejected by the provider '.repeat(10)}`;
    writeFileSync(path.join(dir, 'poisoned.md'), `# Poisoned\n\n${paras.join('\n\n')}\n`);

    [server, emb] = await Promise.all([
      startTemporal(),
      startEmbeddingServer({
        dimensions: 16,
        fault: (req) =>
          req.inputs.some((t) => t.includes(POISON))
            ? { status: 400, body: { error: { message: "This model's maximum context length is 8192 tokens", type: 'invalid_request_error' } } }
            : undefined,
      }),
    ]);
    worker = await startTestWorker(server, testConfig({}, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: 'fail-test', EMBEDDING_DIMENSIONS: '16' }));
    tc = await testClient(server);
  });

  after(async () => {
    await tc?.close();
    await worker?.stop();
    await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)).catch(() => undefined);
    await Promise.all([server?.stop(), emb?.close()]);
    chmodSync(path.join(dir, 'bad/locked.md'), 0o644);
    rmSync(dir, { recursive: true, force: true });
  });

  it('lands every good chunk and lists every bad item with its reason', async () => {
    const r = await ingest(1);
    const c = r.counters;
    const badDocs = 5 + (isRoot ? 0 : 1); // root can read a mode-000 file
    assert.equal(c.documentsFailed, badDocs);
    assert.equal(c.chunksFailed, 1, 'exactly the poisoned chunk fails');
    assert.equal(c.chunksUpserted, c.chunksPlanned - 1);
    assert.equal(await rows(), c.chunksPlanned - 1);
    const poisonedChunks = await rows('poisoned.md');
    assert.ok(poisonedChunks >= 3, `the poisoned document's good chunks landed (${poisonedChunks})`);

    const f = await failures();
    const byId = new Map(f.items.map((i) => [i.documentId, i]));
    assert.equal(f.total, badDocs + 1);
    assert.equal(byId.get('bad/binary.txt')?.type, 'BinaryDocument');
    assert.equal(byId.get('bad/latin1.txt')?.type, 'InvalidUtf8');
    assert.equal(byId.get('bad/empty.md')?.type, 'EmptyDocument');
    assert.equal(byId.get('bad/huge.txt')?.type, 'DocumentTooLarge');
    assert.match(byId.get('bad/huge.txt')!.message, /bad\/huge\.txt: is 53477376 bytes; the limit is 20971520/);
    assert.equal(byId.get('bad/loop.md')?.type, 'UnreadableDocument');
    assert.match(byId.get('bad/loop.md')!.message, /symbolic link loop/);
    if (isRoot) assert.equal(await rows('bad/locked.md'), 1, 'as root, mode 000 does not stop reading');
    else assert.equal(byId.get('bad/locked.md')?.type, 'UnreadableDocument');
    const poison = byId.get('poisoned.md');
    assert.equal(poison?.type, 'InvalidInput');
    assert.match(poison!.message, /maximum context length/);
    assert.equal(poison!.chunkRanges?.length, 1);
    for (const i of f.items) {
      assert.equal(i.attempts, 1);
      assert.ok(Date.parse(i.firstSeen) <= Date.parse(i.lastSeen));
    }
  });

  it('replays by id: a fixed document lands and leaves the list', async () => {
    writeFileSync(path.join(dir, 'bad/binary.txt'), 'Now it is text about retries.');
    const out = await replayHandle().executeUpdate(replayUpdate, { args: [{ ids: ['bad/binary.txt'] }] });
    assert.deepEqual(out.succeeded, ['bad/binary.txt']);
    assert.equal(await rows('bad/binary.txt'), 1);
    const f = await failures();
    assert.ok(!f.items.some((i) => i.documentId === 'bad/binary.txt'));
  });

  it('replays by type: a still-bad item stays, with one more attempt', async () => {
    const out = await replayHandle().executeUpdate(replayUpdate, { args: [{ types: ['InvalidInput'] }] });
    assert.deepEqual(out.stillFailing, ['poisoned.md']);
    const f = await failures();
    assert.equal(f.items.find((i) => i.documentId === 'poisoned.md')?.attempts, 2);
  });

  it('a replay while an open run holds the collection is refused with CollectionBusy and changes nothing; after the run, it goes through', async () => {
    // The open run: a workflow that is RUNNING (the replay workflow itself stands in for an
    // ingest run here), holding the collection's lease as a run's prepare takes it.
    const { leases } = worker.deps.store;
    const d = await replayHandle().describe();
    const holder = { runKey: d.raw.workflowExecutionInfo!.firstRunId!, workflowId: d.workflowId };
    const before = await leases.get(collection);
    await leases.release(collection, before!.runKey);
    const took = await leases.acquire(collection, holder.runKey, holder.workflowId, async () => false);
    assert.equal(took.acquired, true);
    const listed = (await failures()).items.find((i) => i.documentId === 'poisoned.md')!;
    try {
      await assert.rejects(replayHandle().executeUpdate(replayUpdate, { args: [{ ids: ['poisoned.md'] }] }), (e: unknown) => {
        const c = (e as { cause?: { message?: string; cause?: { message?: string } } }).cause;
        assert.match(String(c?.cause?.message ?? c?.message ?? e), /being written by run .*replay after it finishes/);
        return true;
      });
      const l = await leases.get(collection);
      assert.equal(l?.runKey, holder.runKey, 'the replay took the lease from an open run');
      assert.equal(l?.releasedAt, null);
      const still = (await failures()).items.find((i) => i.documentId === 'poisoned.md')!;
      assert.equal(still.attempts, listed.attempts, 'a refused replay counted as an attempt');
    } finally {
      await leases.release(collection, holder.runKey);
    }
    const out = await replayHandle().executeUpdate(replayUpdate, { args: [{ ids: ['poisoned.md'] }] });
    assert.deepEqual(out.stillFailing, ['poisoned.md']);
    const after = await leases.get(collection);
    assert.match(after!.runKey, /^replay:/, 'the replay went through without taking the lease');
    assert.notEqual(after!.releasedAt, null, 'the replay kept the lease');
    assert.equal(after!.workflowId, holder.workflowId, 'the lease row no longer names the latest run');
  });

  it('a vanished document leaves the list on replay', async () => {
    rmSync(path.join(dir, 'bad/empty.md'));
    const out = await replayHandle().executeUpdate(replayUpdate, { args: [{ ids: ['bad/empty.md'] }] });
    assert.deepEqual(out.vanished, ['bad/empty.md']);
  });

  it('re-ingesting a fixed document clears its failure; the rest stay listed', async () => {
    writeFileSync(path.join(dir, 'bad/latin1.txt'), 'café crème brûlée, now in UTF-8');
    const before = (await failures()).total;
    const r = await ingest(2);
    assert.ok(r.counters.documentsChanged >= 1);
    const f = await failures();
    assert.ok(!f.items.some((i) => i.documentId === 'bad/latin1.txt'), 'fixed document still listed');
    assert.equal(f.total, before - 1);
    // a repeated failure in a new run counts as another attempt
    assert.equal(f.items.find((i) => i.documentId === 'bad/huge.txt')?.attempts, 2);
  });

  it('refuses malformed replay requests with a clear reason', async () => {
    for (const [req, msg] of [
      [{}, /exactly one of/],
      [{ all: true, ids: ['x'] }, /exactly one of/],
      [{ ids: [] }, /ids is empty/],
      [{ ids: ['no/such.md'] }, /not on the failure list: no\/such\.md/],
    ] as const) {
      await assert.rejects(replayHandle().executeUpdate(replayUpdate, { args: [req as never] }), (e: unknown) => {
        assert.ok(e instanceof WorkflowUpdateFailedError, String(e));
        assert.match(String((e.cause as Error)?.message), msg);
        return true;
      });
    }
  });

  it('the vector-ingest CLI and the plain Temporal CLI list and replay the same failures', async () => {
    const bin = path.resolve(__dirname, '../../bin/vector-ingest.js');
    const addr = ['--temporal-address', server.address];
    const listed = await exec(process.execPath, [bin, 'failures', collection, ...addr, '--json']);
    const page = JSON.parse(listed.stdout) as FailuresPage;
    assert.equal(page.total, (await failures()).total);
    const human = await exec(process.execPath, [bin, 'failures', collection, ...addr]);
    assert.match(human.stdout, /bad\/huge\.txt\s+\[DocumentTooLarge, 2 attempt\(s\)/);
    const stillBad = await exec(process.execPath, [bin, 'replay', collection, '--id', 'bad/huge.txt', ...addr]).catch((e) => e);
    assert.equal(stillBad.code, 5, 'exit code 5: some items still fail');
    assert.match(stillBad.stdout, /replayed 1: 0 succeeded, 1 still failing/);
    const refused = await exec(process.execPath, [bin, 'replay', collection, ...addr]).catch((e) => e);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /exactly one of/);

    const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';
    const q = await exec(cli, ['workflow', 'query', '--address', server.address, '--workflow-id', replayWorkflowId(collection), '--type', 'failures', '--input', '{"limit":100}', '--output', 'json']);
    assert.match(q.stdout, /bad\/huge\.txt/);
    const u = await exec(cli, ['workflow', 'update', 'execute', '--address', server.address, '--workflow-id', replayWorkflowId(collection), '--name', 'replay', '--input', '{"types":["DocumentTooLarge"]}', '--output', 'json']);
    assert.match(u.stdout, /stillFailing/);
  });
});
