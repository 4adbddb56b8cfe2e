import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { assertExactSink, drillCorpus, drillInput, prng, spawnWorker, startIngest } from '../support/drill';
import { startTemporal, testClient, uniqueCollection, withPg } from '../support/env';
import { startMoto, type MotoServer } from '../support/moto';
import { syncDirToBucket } from '../support/s3-sync';

const KILLS = Number(process.env.DRILL_KILLS ?? 2);
const SEED = Number(process.env.DRILL_SEED ?? Date.now() % 100_000);

// Drill on a remote source: the worker reading an S3 bucket (moto's S3 server over HTTP) is
// killed with SIGKILL at random points of a run, KILLS times, and restarted each time. The
// bucket holds a directory's files under the same names, so the sink must hold exactly the
// chunks that directory says: 0 lost, 0 extra, 0 duplicates.
describe(`drill: kill -9 of a worker ingesting from S3, ${KILLS} times (seed ${SEED})`, () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let moto: MotoServer;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const collection = uniqueCollection('drill_s3');

  before(async () => {
    [server, emb, moto] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 8, latencyMs: 250 }), startMoto()]);
    tc = await testClient(server);
  });
  after(async () => {
    await tc?.close();
    await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)).catch(() => undefined);
    await Promise.all([server?.stop(), emb?.close(), moto?.stop()]);
  });

  it('loses and duplicates nothing', async () => {
    const dir = drillCorpus(50);
    const s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'drill', secretAccessKey: 'drill' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'drill' }));
    await syncDirToBucket(s3, 'drill', dir);
    s3.destroy();
    const env = {
      TEMPORAL_ADDRESS: server.address,
      OPENAI_BASE_URL: emb.url,
      EMBEDDING_MODEL: `drill-${collection}`,
      EMBEDDING_DIMENSIONS: '8',
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'drill',
      AWS_SECRET_ACCESS_KEY: 'drill',
      AWS_REGION: 'us-east-1',
    };
    const rand = prng(SEED);
    const started = Date.now();
    let w = spawnWorker(env);
    await w.ready;
    const handle = await startIngest(tc.client, `${collection}-run`, drillInput(collection, dir, { source: { kind: 's3', bucket: 'drill' }, maxInFlightBatches: 2 }));
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 400 + rand() * 1200));
      w.child.kill('SIGKILL');
      await new Promise((r) => w.child.once('exit', r));
      console.log(`kill ${k + 1}/${KILLS} at ${((Date.now() - started) / 1000).toFixed(1)} s`);
      w = spawnWorker(env);
      await w.ready;
    }
    const result = await handle.result();
    w.child.kill('SIGTERM');
    await new Promise((r) => w.child.once('exit', r));
    console.log(`drill-s3-kill: run done at ${((Date.now() - started) / 1000).toFixed(1)} s; ${emb.stats.requests} embedding requests`);
    assert.equal(result.counters.documentsListed, 50);
    await assertExactSink(collection, dir, result);
  });
});
