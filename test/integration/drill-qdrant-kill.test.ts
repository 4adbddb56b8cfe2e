import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { startQdrantStandIn, type QdrantStandIn } from '../../src/testing/qdrant-standin';
import { DRILL_CHUNKING, drillCorpus, drillInput, prng, spawnWorker, startIngest } from '../support/drill';
import { startTemporal, testClient, uniqueCollection, withPg } from '../support/env';
import { expectedRows, type ExpectedRow } from '../support/expected';

const KILLS = 2;
const HOLD_MS = 700;

type Phase = 'before-write' | 'after-write';

/**
 * An HTTP proxy in front of the stand-in that holds every point write HOLD_MS before passing it
 * on and HOLD_MS before answering, so the drill can kill the worker inside either crash window:
 * a write Qdrant never got (dropped when the worker's connection is gone by then) and a write
 * Qdrant applied but the worker never heard of.
 */
async function startHoldingProxy(target: string): Promise<{ url: string; held: Set<Phase>; close(): Promise<void> }> {
  const held = new Set<Phase>();
  const phases = new Map<http.IncomingMessage, Phase>();
  const sync = () => {
    held.clear();
    for (const p of phases.values()) held.add(p);
  };
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const server = http.createServer(async (req, res) => {
    const body: Buffer[] = [];
    for await (const c of req) body.push(c as Buffer);
    const isWrite = req.method === 'PUT' && /\/points(\?|$)/.test(req.url ?? '');
    let gone = false;
    res.once('close', () => (gone = !res.writableFinished));
    if (isWrite) {
      phases.set(req, 'before-write');
      sync();
      await wait(HOLD_MS);
      if (gone) {
        phases.delete(req);
        sync();
        return; // the worker died before the request reached Qdrant
      }
    }
    const up = await fetch(`${target}${req.url}`, { method: req.method, headers: { 'content-type': String(req.headers['content-type'] ?? 'application/json') }, body: body.length ? Buffer.concat(body) : undefined });
    const text = Buffer.from(await up.arrayBuffer());
    if (isWrite) {
      phases.set(req, 'after-write');
      sync();
      await wait(HOLD_MS);
      phases.delete(req);
      sync();
    }
    if (!gone) res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' }).end(text);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
const SEED = Number(process.env.DRILL_SEED ?? Date.now() % 100_000);

// Drill: the worker process writing into Qdrant (the stand-in that checks every request against
// Qdrant's OpenAPI schema; no real Qdrant runs here) is killed with SIGKILL inside a point write,
// once before the write reached Qdrant and once after Qdrant applied it but before the worker
// heard back; a new worker finishes the run. Qdrant must then hold exactly the points
// the source says: none lost, none extra, each with the content of its chunk.
describe(`drill: kill -9 of a worker writing to Qdrant (seed ${SEED})`, () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let qdrant: QdrantStandIn;
  let proxy: Awaited<ReturnType<typeof startHoldingProxy>>;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const collection = uniqueCollection('drill_qkill');

  before(async () => {
    [server, emb, qdrant] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 8, latencyMs: 250 }), startQdrantStandIn()]);
    proxy = await startHoldingProxy(qdrant.url);
    tc = await testClient(server);
  });
  after(async () => {
    await tc?.close();
    await Promise.all([server?.stop(), emb?.close()]);
    await proxy?.close();
    await qdrant?.close();
  });

  const points = () => qdrant.collection(collection)?.points.size ?? 0;
  const qdrantRows = (): ExpectedRow[] =>
    [...(qdrant.collection(collection)?.points.values() ?? [])]
      .map((p) => ({ id: String(p.id), document_id: p.payload.document_id as string, chunk_index: p.payload.chunk_index as number, content: p.payload.content as string, content_hash: p.payload.content_hash as string }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));

  it('loses and duplicates no point', async () => {
    const env = { TEMPORAL_ADDRESS: server.address, OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `drill-${collection}`, EMBEDDING_DIMENSIONS: '8', QDRANT_URL: proxy.url };
    const dir = drillCorpus(40);
    const expected = expectedRows(collection, dir, DRILL_CHUNKING);
    const rand = prng(SEED);
    const started = Date.now();
    let w = spawnWorker(env);
    await w.ready;
    const handle = await startIngest(tc.client, `${collection}-run`, drillInput(collection, dir, { sink: 'qdrant', maxInFlightBatches: 2 }));
    for (let k = 0; k < KILLS; k++) {
      // Kill inside a point write: the first time before it reached Qdrant, then after Qdrant
      // applied it but before the worker heard back.
      const phase: Phase = k % 2 === 0 ? 'before-write' : 'after-write';
      const before = points();
      await new Promise((r) => setTimeout(r, rand() * 1000));
      for (const deadline = Date.now() + 60_000; !proxy.held.has(phase) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
      assert.ok(proxy.held.has(phase), `no point write reached the ${phase} window`);
      w.child.kill('SIGKILL');
      await new Promise((r) => w.child.once('exit', r));
      const atKill = points();
      const status = (await handle.describe()).status.name;
      console.log(`drill-qdrant-kill: kill ${k + 1}/${KILLS} (${phase}) at ${((Date.now() - started) / 1000).toFixed(1)} s with ${atKill} of ${expected.length} points in Qdrant (run ${status})`);
      assert.equal(status, 'RUNNING', 'the run was over before the kill');
      assert.ok(atKill >= before && atKill < expected.length, `kill ${k + 1} did not hit the run while points were landing (${atKill} of ${expected.length})`);
      w = spawnWorker(env);
      await w.ready;
    }
    const result = await handle.result();
    w.child.kill('SIGTERM');
    await new Promise((r) => w.child.once('exit', r));

    const actual = qdrantRows();
    const ids = new Set(actual.map((r) => r.id));
    const expectedIds = new Set(expected.map((r) => r.id));
    const lost = expected.filter((r) => !ids.has(r.id)).length;
    const extra = actual.filter((r) => !expectedIds.has(r.id)).length;
    console.log(`drill-qdrant-kill: ${expected.length} points expected, ${actual.length} found, ${lost} lost, ${extra} extra; ${emb.stats.requests} embedding requests`);
    assert.equal(lost, 0, `${lost} points lost`);
    assert.equal(extra, 0, `${extra} unexpected points`);
    assert.deepEqual(actual, expected, 'point content differs from the source');
    assert.equal(result.counters.chunksFailed, 0);
    assert.equal(result.counters.documentsFailed, 0);
    assert.equal(result.counters.documentsListed, 40);
    const staged = await withPg(async (c) => (await c.query('SELECT count(*)::int AS n FROM vector_ingest.staged_chunks WHERE collection = $1', [collection])).rows[0].n);
    assert.equal(staged, 0, 'staging rows left behind');
    assert.deepEqual(qdrant.violations, [], "requests that violate Qdrant's OpenAPI schema");
  });
});
