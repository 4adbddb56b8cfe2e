import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import pino from 'pino';
import { installRuntime } from '../../src/runtime';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { assertExactSink, drillCorpus, drillInput, prng, startIngest } from '../support/drill';
import { startTemporal, startTestWorker, testClient, testConfig, uniqueCollection, withPg } from '../support/env';

// The bug class this guards: a client closed while something still used it (the seed's async
// vector-store client closed its connection after its event loop was gone, which crashed every
// upsert). Workers are started and
// stopped over and over in ONE process while a run is going; each stop must drain the workers
// before closing their pool and HTTP clients, and nothing may surface as an unhandled
// rejection, an uncaught exception or a "closed client" error. The run then completes exactly.
describe('worker lifecycle under load', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const collection = uniqueCollection('it_life');
  const problems: string[] = [];
  const onRejection = (r: unknown) => problems.push(`unhandledRejection: ${String((r as Error)?.stack ?? r)}`);
  const onException = (e: Error) => problems.push(`uncaughtException: ${e.stack}`);
  // Everything the workers and the SDK log (activity failures are logged at warn) is searched
  // for closed clients.
  let logged = '';
  const log = pino({ level: 'debug' }, { write: (line: string) => void (logged += line) });

  before(async () => {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    installRuntime(log);
    [server, emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 8, latencyMs: 80 })]);
    tc = await testClient(server);
  });
  after(async () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    await tc?.close();
    await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)).catch(() => undefined);
    await Promise.all([server?.stop(), emb?.close()]);
  });

  it('starts and stops workers 6 times mid-run without a closed-client error or a lost chunk', async () => {
    const config = testConfig({ logLevel: 'warn' }, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `life-${collection}`, EMBEDDING_DIMENSIONS: '8' });
    const dir = drillCorpus(100);
    const handle = await startIngest(tc.client, `${collection}-run`, drillInput(collection, dir, { maxInFlightBatches: 4 }));
    const rand = prng(7);
    const cycles: string[] = [];
    for (let i = 0; i < 6; i++) {
      const w = await startTestWorker(server, config, undefined, log);
      await new Promise((r) => setTimeout(r, 400 + rand() * 1200));
      const t0 = Date.now();
      await w.stop(); // shutdown → drain → close pool and clients
      cycles.push(`${Date.now() - t0} ms`);
    }
    const w = await startTestWorker(server, config, undefined, log);
    const result = await handle.result();
    await w.stop();
    console.log(`lifecycle: 6 stop cycles, drain+close took ${cycles.join(', ')}`);
    assert.deepEqual(problems, []);
    assert.ok(logged.includes('embedAndWriteBatch done'), 'positive control: the workers\' activity logs were captured');
    assert.doesNotMatch(logged, /Cannot use a pool after calling end|Client was closed|client (has been |is )?closed|Connection terminated/i);
    await assertExactSink(collection, dir, result);
  });
});
