import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ConfigError, DocumentError } from '../../src/errors';
import { S3Source } from '../../src/sources/s3';
import type { SourceItem } from '../../src/sources/types';
import { startMoto, type MotoServer } from '../support/moto';

// moto's S3-compatible server, run for real over HTTP (scripts/infra/install-moto.sh).
const creds = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };
const fp = (i: SourceItem) => (i as SourceItem & { fingerprint?: string }).fingerprint;

async function listAll(src: S3Source, limit: number): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const page = await src.listPage(cursor, limit);
    out.push(...page.items);
    if (page.nextCursor === null) return out;
    cursor = page.nextCursor;
  }
  throw new Error('listing did not end');
}

describe('s3 source against moto', () => {
  let moto: MotoServer;
  let s3: S3Client;
  let env: Record<string, string>;
  const put = (Key: string, Body: string | Uint8Array) => s3.send(new PutObjectCommand({ Bucket: 'docs', Key, Body }));

  before(async () => {
    moto = await startMoto();
    env = { ...creds, AWS_ENDPOINT_URL_S3: moto.endpoint };
    s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'docs' }));
    await put('kb/a.md', '# A\n\nAlpha.');
    await put('kb/b.html', '<h1>B</h1><p>Beta.</p>');
    await put('kb/c.txt', 'Gamma.');
    await put('kb/folder/', '');
    await put('kb/image.png', new Uint8Array([0x89, 0x50]));
    await put('kb/sub/d.md', '# D\n\nDelta.');
    await put('other/e.md', '# E');
  });
  after(async () => {
    s3?.destroy();
    await moto?.stop();
  });

  it('lists documents under the prefix in key order, paged with StartAfter, with ETag+size fingerprints', async () => {
    const src = new S3Source({ kind: 's3', bucket: 'docs', prefix: 'kb/' }, env);
    const all = await listAll(src, 100);
    assert.deepEqual(all.map((i) => i.id), ['kb/a.md', 'kb/b.html', 'kb/c.txt', 'kb/sub/d.md']);
    assert.deepEqual(all.map((i) => i.format), ['markdown', 'html', 'text', 'markdown']);
    assert.match(fp(all[0]!)!, /^"[0-9a-f]{32}":11$/);
    assert.deepEqual(await listAll(src, 1), all);
    const first = await src.listPage(null, 3);
    assert.equal(first.nextCursor, 'kb/c.txt');
    assert.deepEqual((await src.listPage('kb/c.txt', 3)).items, all.slice(3));
  });

  it('counts keys of no supported format (kb/image.png) once, whatever the page size', async () => {
    const src = new S3Source({ kind: 's3', bucket: 'docs', prefix: 'kb/' }, env);
    for (const size of [1, 2, 3, 4, 100]) {
      let cursor: string | null = null;
      let unsupported = 0;
      for (let i = 0; i < 20; i++) {
        const page = await src.listPage(cursor, size);
        unsupported += page.skipped?.filesUnsupported ?? 0;
        cursor = page.nextCursor;
        if (cursor === null) break;
      }
      assert.equal(cursor, null);
      assert.equal(unsupported, 1, `page size ${size}`);
    }
  });

  it('changes the fingerprint when an object changes, and reads it', async () => {
    const src = new S3Source({ kind: 's3', bucket: 'docs', prefix: 'kb/a' }, env);
    const [before] = await listAll(src, 10);
    await put('kb/a.md', '# A\n\nAlpha, revised.');
    const [afterChange] = await listAll(src, 10);
    assert.notEqual(fp(afterChange!), fp(before!));
    assert.equal(Buffer.from(await src.read(afterChange!, 1e6)).toString(), '# A\n\nAlpha, revised.');
  });

  it('reports a vanished or too large object as that document failing', async () => {
    const src = new S3Source({ kind: 's3', bucket: 'docs', prefix: 'kb/' }, env);
    await put('kb/gone.md', 'soon gone');
    await s3.send(new DeleteObjectCommand({ Bucket: 'docs', Key: 'kb/gone.md' }));
    await assert.rejects(src.read({ id: 'kb/gone.md', format: 'markdown' }, 1e6), (e: unknown) => e instanceof DocumentError && e.type === 'DocumentVanished');
    await assert.rejects(src.read({ id: 'kb/b.html', format: 'html' }, 5), (e: unknown) => e instanceof DocumentError && e.type === 'DocumentTooLarge');
  });

  it('refuses a missing bucket, an unreachable endpoint, refused credentials and credentials in the input', async () => {
    await assert.rejects(new S3Source({ kind: 's3', bucket: 'no-such-bucket' }, env).validate(), (e: unknown) => e instanceof ConfigError && /bucket no-such-bucket does not exist/.test(e.message));
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const down = new S3Source({ kind: 's3', bucket: 'docs' }, { ...env, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` });
    await assert.rejects(down.validate(), (e: unknown) => e instanceof ConfigError && /endpoint cannot be reached \(ECONNREFUSED\)/.test(e.message));
    await assert.rejects(down.listPage('kb/a.md', 10), (e: unknown) => !(e instanceof ConfigError), 'mid-run, an unreachable endpoint is retried');

    const guarded = await startMoto({ auth: true });
    try {
      const refused = new S3Source({ kind: 's3', bucket: 'docs' }, { ...env, AWS_ENDPOINT_URL_S3: guarded.endpoint });
      await assert.rejects(refused.validate(), (e: unknown) => e instanceof ConfigError && /access refused \(InvalidAccessKeyId\)/.test(e.message));
    } finally {
      await guarded.stop();
    }
    assert.throws(() => new S3Source({ kind: 's3', bucket: 'docs', secretAccessKey: 'x' } as never, env), /never from workflow input/);
    assert.throws(() => new S3Source({ kind: 's3', bucket: 'Bad_Bucket' }, env), /bucket name/);
  });
});
