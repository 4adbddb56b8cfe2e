import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { DevServer } from '../../src/embedded/temporal';
import { pointId } from '../../src/ids';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { failuresQuery, ingestCollection, replayUpdate } from '../../src/workflows';
import { replayWorkflowId } from '../../src/contracts/replay';
import { TASK_QUEUE, type IngestInput, type IngestResult, type SourceSpec } from '../../src/contracts/ingest';
import { startTemporal, teardown, startTestWorker, tempDir, testClient, testConfig, uniqueCollection, withPg, type TestWorker } from '../support/env';
import { expectedRows, sinkRows, type ExpectedRow } from '../support/expected';
import { cliAgainst } from '../support/cli-run';
import { docsSite, TestSite } from '../support/web-site';
import { GUIDE_HTML, pandocDocx, printPdf } from '../support/format-fixtures';

const exec = promisify(execFile);
const CHUNKING = { chunkTokens: 60, overlapTokens: 8 };

/**
 * What the sink must hold for these pages of the site, computed offline by the same function the
 * directory tests use: the pages are written to a directory under names with their format's
 * extension, and the rows are then re-keyed by URL.
 */
async function expectedFor(collection: string, site: TestSite, paths: string[]): Promise<ExpectedRow[]> {
  const dir = tempDir('vi-web-expected-');
  const urlOf = new Map<string, string>();
  paths.forEach((p, i) => {
    const page = site.pages.get(p)!;
    const name = `${i}${/text\/plain/.test(page.type ?? '') ? '.txt' : '.html'}`;
    writeFileSync(path.join(dir, name), page.body);
    urlOf.set(name, site.url + p);
  });
  return (await expectedRows(collection, dir, CHUNKING))
    .map((r) => {
      const id = urlOf.get(r.document_id)!;
      return { ...r, id: pointId(collection, id, r.chunk_index), document_id: id };
    })
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

const html = (title: string, body: string, links: string[] = []) =>
  `<html><body><h1>${title}</h1><p>${body}</p>${links.map((l) => `<a href="${l}">${l}</a>`).join('')}</body></html>`;

// A web source through a real worker against a real HTTP server (node:http on 127.0.0.1) with a
// sitemap, robots.txt (one page disallowed) and ETags: first run, unchanged re-run (no page
// fetched), change/add/delete (a removed page and a 410 leave the collection), bad input.
describe('web source: incremental ingest through a real worker', () => {
  let server: DevServer;
  let emb: EmbeddingServer;
  let site: TestSite;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  const collection = uniqueCollection('it_web');
  const crawled = `${collection}_crawl`;
  let runs = 0;

  const ingest = async (source: SourceSpec, name = collection): Promise<IngestResult> => {
    const input: IngestInput = { collection: name, source, chunking: CHUNKING, pageSize: 2 };
    const h = await tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `${name}-${++runs}`, args: [input] });
    return h.result();
  };
  const sitemap = (): SourceSpec => ({ kind: 'web', url: `${site.url}/sitemap.xml`, requestsPerSecond: 500 });
  const start = (): SourceSpec => ({ kind: 'web', url: `${site.url}/docs/`, requestsPerSecond: 500 });

  before(async () => {
    site = docsSite(await new TestSite().start());
    [server, emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 16 })]);
    worker = await startTestWorker(server, testConfig({}, { OPENAI_BASE_URL: emb.url, EMBEDDING_MODEL: `web-${collection}`, EMBEDDING_DIMENSIONS: '16' }));
    tc = await testClient(server);
  });

  after(async () => {
    await teardown({ tc, worker, server, emb, collection });
    for (const t of [crawled, `${collection}_cli`, `${collection}_vi`, `${collection}_pdf`]) await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${t}`)).catch(() => undefined);
    await site?.stop();
  });

  it('sitemap, first run: exactly the allowed pages, paged two at a time', async () => {
    const r = await ingest(sitemap());
    assert.equal(r.counters.documentsListed, 4);
    assert.equal(r.counters.documentsFailed, 0);
    assert.deepEqual(await sinkRows(collection), await expectedFor(collection, site, ['/docs/', '/docs/intro.html', '/docs/guide/setup.html', '/docs/notes.txt']));
  });

  it('sitemap, unchanged re-run: no page fetched, nothing embedded', async () => {
    emb.reset();
    const from = site.log.length;
    const t0 = Date.now();
    const r = await ingest(sitemap());
    console.log(`web (sitemap) unchanged re-run of 4 pages: ${Date.now() - t0} ms`);
    assert.equal(r.counters.documentsChanged, 0);
    assert.equal(r.counters.documentsUnchanged, 4);
    assert.equal(site.documentReads(from), 0, JSON.stringify(site.log.slice(from)));
    assert.equal(emb.stats.requests, 0);
  });

  it('sitemap: a changed, an added, a removed and a 410 page', async () => {
    site.set('/docs/intro.html', html('Introduction', 'Rewritten: the ingest workflow continues as new every few pages.', ['/docs/']));
    site.set('/docs/new.html', html('New', 'A page added after the first run, about sitemaps and lastmod.'));
    site.pages.delete('/docs/guide/setup.html');
    site.set('/docs/notes.txt', '', { type: 'text/plain', status: 410 });
    emb.reset();
    const from = site.log.length;
    const r = await ingest(sitemap());
    assert.equal(r.counters.documentsChanged, 2);
    assert.equal(r.counters.documentsDeleted, 2);
    assert.equal(r.counters.documentsFailed, 0);
    assert.equal(site.documentReads(from), 2, 'only the changed and the added page are fetched');
    assert.deepEqual(await sinkRows(collection), await expectedFor(collection, site, ['/docs/', '/docs/intro.html', '/docs/new.html']));
  });

  it('crawl from a start page: first run, unchanged re-run answered by 304s, then a deleted and a linked new page', async () => {
    const r1 = await ingest(start(), crawled);
    // /docs/, intro, new (linked from nowhere yet: not found), notes (410: gone) → 2 pages
    assert.deepEqual((await sinkRows(crawled)).map((x) => x.document_id).filter((v, i, a) => a.indexOf(v) === i).sort(), [`${site.url}/docs/`, `${site.url}/docs/intro.html`]);
    assert.equal(r1.counters.documentsListed, 2);

    emb.reset();
    const from = site.log.length;
    const t0 = Date.now();
    const r2 = await ingest(start(), crawled);
    console.log(`web (crawl) unchanged re-run of 2 pages: ${Date.now() - t0} ms`);
    assert.equal(r2.counters.documentsChanged, 0);
    assert.equal(site.documentReads(from), 0, `every crawl request was answered 304: ${JSON.stringify(site.log.slice(from))}`);
    assert.equal(emb.stats.requests, 0);

    site.set('/docs/', html('Docs home', 'Welcome, now with a page on sitemaps.', ['new.html']));
    const r3 = await ingest(start(), crawled);
    assert.equal(r3.counters.documentsChanged, 2, 'the home page changed; new.html is linked now');
    assert.equal(r3.counters.documentsDeleted, 1, 'intro.html is no longer linked');
    assert.deepEqual(await sinkRows(crawled), await expectedFor(crawled, site, ['/docs/', '/docs/new.html']));
  });

  it('a page that answers 500 fails alone, is listed in the replay workflow, and lands when replayed after a fix', async () => {
    const url = `${site.url}/docs/broken`; // no extension: a replay must still read it as HTML
    site.set('/docs/broken', '', { status: 500, inSitemap: true, lastmod: '2026-11-20' });
    const r = await ingest(sitemap());
    assert.equal(r.counters.documentsFailed, 1);
    const replay = tc.client.workflow.getHandle(replayWorkflowId(collection));
    const f = await replay.query(failuresQuery, { limit: 10 });
    assert.deepEqual(f.items.map((i) => [i.documentId, i.type]), [[url, 'UnreadableDocument']]);
    assert.match(f.items[0]!.message, /answered 500/);

    site.set('/docs/broken', html('Fixed', 'The server answers again; the replay indexes this page as HTML.'), { lastmod: '2026-11-21' });
    const out = await replay.executeUpdate(replayUpdate, { args: [{ ids: [url] }] });
    assert.deepEqual(out.succeeded, [url]);
    const rows = (await sinkRows(collection)).filter((x) => x.document_id === url);
    assert.deepEqual(rows, await expectedFor(collection, site, ['/docs/broken']));
    assert.ok(!rows.some((x) => x.content.includes('<')), 'indexed as HTML, not as text with tags');
    site.pages.delete('/docs/broken');
  });

  it('crawled links to a PDF and a Word file go through their formats: PDF passages land with their page, the DOCX served as octet-stream lands as docx; a fake PDF fails alone', async () => {
    const name = `${collection}_pdf`;
    const pdfFile = path.join(tempDir('vi-web-pdf-'), 'guide.pdf');
    printPdf(GUIDE_HTML, pdfFile); // a real PDF, printed by chromium
    const docxFile = path.join(tempDir('vi-web-docx-'), 'handbook.docx');
    pandocDocx('# Handbook\n\nThe ocelot passage explains on-call rotations.\n', docxFile); // a real DOCX, written by pandoc
    site.set('/manuals/', html('Manuals', 'The operations guide and a file that claims to be one.', ['guide.pdf', 'fake.pdf', 'handbook.docx']));
    site.set('/manuals/guide.pdf', readFileSync(pdfFile), { type: 'application/pdf' });
    site.set('/manuals/handbook.docx', readFileSync(docxFile), { type: 'application/octet-stream' });
    site.set('/manuals/fake.pdf', '<html>an error page served as a PDF</html>', { type: 'application/pdf' });
    try {
      const r = await ingest({ kind: 'web', url: `${site.url}/manuals/`, requestsPerSecond: 500 }, name);
      assert.equal(r.counters.documentsListed, 4);
      assert.equal(r.counters.documentsFailed, 1, 'the fake PDF');
      const f = await tc.client.workflow.getHandle(replayWorkflowId(name)).query(failuresQuery, { limit: 10 });
      assert.deepEqual(f.items.map((i) => [i.documentId, i.type]), [[`${site.url}/manuals/fake.pdf`, 'FormatMismatch']]);
      const rows = await withPg(
        async (c) => (await c.query<{ document_id: string; content: string; metadata: Record<string, unknown> }>(`SELECT document_id, content, metadata FROM public.${name} ORDER BY document_id, chunk_index`)).rows,
      );
      const pdfRows = rows.filter((x) => x.document_id === `${site.url}/manuals/guide.pdf`);
      const pageOf = (word: string) => pdfRows.filter((x) => x.content.includes(word)).map((x) => x.metadata.page);
      assert.deepEqual(pageOf('zebra passage'), [1]);
      assert.deepEqual(pageOf('walrus passage'), [2]);
      assert.deepEqual(pageOf('pelican passage'), [3]);
      assert.ok(pdfRows.every((x) => x.metadata.format === 'pdf' && x.metadata.title === 'Operations Guide'), JSON.stringify(pdfRows.map((x) => x.metadata)));
      const docxRows = rows.filter((x) => x.document_id === `${site.url}/manuals/handbook.docx`);
      assert.ok(docxRows.length > 0 && docxRows.every((x) => x.metadata.format === 'docx'), JSON.stringify(docxRows.map((x) => x.metadata)));
      assert.ok(docxRows.some((x) => x.content.includes('ocelot passage')));
    } finally {
      for (const p of ['/manuals/', '/manuals/guide.pdf', '/manuals/fake.pdf', '/manuals/handbook.docx']) site.pages.delete(p);
    }
  });

  it('sitemap entries without an extension land as what they are served as (PDF by Content-Type, DOCX by its bytes); a body of no known kind fails alone, naming its URL', async () => {
    const name = `${collection}_files`;
    const pdfFile = path.join(tempDir('vi-web-pdf-'), 'guide.pdf');
    printPdf(GUIDE_HTML, pdfFile);
    const docxFile = path.join(tempDir('vi-web-docx-'), 'handbook.docx');
    pandocDocx('# Handbook\n\nThe ocelot passage explains on-call rotations.\n', docxFile);
    const files: Array<[string, Buffer, string]> = [
      ['/files/guide', readFileSync(pdfFile), 'application/pdf'],
      ['/files/handbook', readFileSync(docxFile), 'application/octet-stream'],
      ['/files/export', Buffer.from([0x00, 0x01, 0x02, 0x03, 0xff]), 'application/octet-stream'],
    ];
    for (const [p, body, type] of files) site.set(p, body, { type });
    site.sitemapOverride = `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${files.map(([p]) => `<url><loc>${site.url}${p}</loc><lastmod>2026-11-20</lastmod></url>`).join('')}</urlset>`;
    try {
      const r = await ingest(sitemap(), name);
      assert.equal(r.counters.documentsListed, 3);
      const f = await tc.client.workflow.getHandle(replayWorkflowId(name)).query(failuresQuery, { limit: 10 });
      assert.deepEqual(f.items.map((i) => [i.documentId, i.type]), [[`${site.url}/files/export`, 'UnsupportedDocument']]);
      assert.match(f.items[0]!.message, /^http:\/\/127\.0\.0\.1:\d+\/files\/export: is application\/octet-stream, not HTML, text, PDF or DOCX/);
      assert.equal(r.counters.documentsFailed, 1);
      const rows = await withPg(async (c) => (await c.query<{ document_id: string; content: string; metadata: Record<string, unknown> }>(`SELECT document_id, content, metadata FROM public.${name} ORDER BY document_id, chunk_index`)).rows);
      const pdfRows = rows.filter((x) => x.document_id === `${site.url}/files/guide`);
      assert.ok(pdfRows.length > 0 && pdfRows.every((x) => x.metadata.format === 'pdf' && typeof x.metadata.page === 'number'), JSON.stringify(pdfRows.map((x) => x.metadata)));
      assert.deepEqual(pdfRows.filter((x) => x.content.includes('walrus passage')).map((x) => x.metadata.page), [2]);
      const docxRows = rows.filter((x) => x.document_id === `${site.url}/files/handbook`);
      assert.ok(docxRows.length > 0 && docxRows.every((x) => x.metadata.format === 'docx'), JSON.stringify(docxRows.map((x) => x.metadata)));
      assert.ok(docxRows.some((x) => x.content.includes('ocelot passage')));
    } finally {
      site.sitemapOverride = undefined;
      for (const [p] of files) site.pages.delete(p);
      await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${name}`)).catch(() => undefined);
    }
  });

  it('a sitemap that is not XML fails the run with a ConfigError before anything is written', async () => {
    const name = `${collection}_bad`;
    site.sitemapOverride = '<html><body>Moved to our new site</body></html>';
    try {
      await assert.rejects(ingest(sitemap(), name), (e: unknown) => {
        assert.ok(e instanceof WorkflowFailedError);
        const cause = (e.cause as { cause?: Error & { type?: string } })?.cause;
        assert.equal(cause?.type, 'ConfigError');
        assert.match(cause?.message ?? '', /sitemap http:\/\/127\.0\.0\.1:\d+\/sitemap\.xml is XML but neither a <urlset> nor a <sitemapindex>/);
        return true;
      });
    } finally {
      site.sitemapOverride = undefined;
    }
    const table = await withPg(async (c) => (await c.query(`SELECT to_regclass('public.${name}') AS t`)).rows[0].t);
    assert.equal(table, null, 'a table was created');
  });

  it('`temporal workflow start` with a web source object completes', async () => {
    const name = `${collection}_cli`;
    const workflowId = `${name}-from-cli`;
    const input = JSON.stringify({ collection: name, source: { kind: 'web', url: `${site.url}/sitemap.xml` } });
    await exec(process.env.TEMPORAL_CLI_PATH ?? 'temporal', ['workflow', 'start', '--address', server.address, '--namespace', server.namespace, '--type', 'ingestCollection', '--task-queue', TASK_QUEUE, '--workflow-id', workflowId, '--input', input]);
    const r = (await tc.client.workflow.getHandle(workflowId).result()) as IngestResult;
    assert.equal(r.counters.documentsListed, 3);
    assert.equal(r.counters.documentsFailed, 0);
  });

  it('`vector-ingest ingest <url>`: a sitemap address runs; an unreachable host exits 2 and writes nothing', async () => {
    const name = `${collection}_vi`;
    const ok = await cliAgainst(server, ['ingest', `${site.url}/sitemap.xml`, '--collection', name, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout.trim().split('\n').pop()!) as IngestResult).counters.documentsListed, 3);

    const down = `${collection}_down`;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r())); // nothing listens there now
    const bad = await cliAgainst(server, ['ingest', `http://127.0.0.1:${port}/docs/`, '--collection', down]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, new RegExp(`web site http://127\\.0\\.0\\.1:${port}/docs/: .*cannot be reached \\(ECONNREFUSED\\)`));
    const table = await withPg(async (c) => (await c.query(`SELECT to_regclass('public.${down}') AS t`)).rows[0].t);
    assert.equal(table, null, 'a table was created');
  });
});
