import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DevServer } from '../../src/embedded/temporal';
import { searchCollection, type SearchDeps } from '../../src/search';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestInput, type IngestResult } from '../../src/contracts/ingest';
import { startTemporal, startTestWorker, tempDir, testClient, testConfig, uniqueCollection, withPg, type TestWorker } from '../support/env';
import { GUIDE_HTML, pandocDocx, printPdf, SPEC_MARKDOWN } from '../support/format-fixtures';

// A directory of mixed PDF (printed by chromium), DOCX (written by pandoc), markdown, HTML and
// code (a real package's source) ingests through a real worker; the pgvector rows carry their
// metadata (page N for a passage on page N, heading paths, language), and search finds the PDF
// passage with its page.
describe('mixed formats through a real worker', () => {
  let server: DevServer;
  let worker: TestWorker;
  let tc: Awaited<ReturnType<typeof testClient>>;
  let result: IngestResult;
  const collection = uniqueCollection('it_formats');
  const dir = tempDir('vi-formats-ingest-');
  const codeFile = path.join(path.dirname(createRequire(__filename).resolve('pg-protocol')), '..', 'src', 'parser.ts');

  type Row = { document_id: string; content: string; metadata: Record<string, unknown> };
  const rows = () => withPg(async (c) => (await c.query<Row>(`SELECT document_id, content, metadata FROM public.${collection} ORDER BY document_id, chunk_index`)).rows);

  before(async () => {
    mkdirSync(path.join(dir, 'docs'), { recursive: true });
    mkdirSync(path.join(dir, 'src'), { recursive: true });
    printPdf(GUIDE_HTML, path.join(dir, 'docs/guide.pdf'));
    pandocDocx(SPEC_MARKDOWN, path.join(dir, 'docs/spec.docx'));
    writeFileSync(path.join(dir, 'docs/notes.md'), '# Notes\n\n## Backups\n\nThe backup job runs at the hour of the lynx, every night.\n');
    writeFileSync(path.join(dir, 'docs/page.html'), '<html><head><title>Status Page</title></head><body><h1>Status</h1><h2>Incidents</h2><p>No incident touched the marmot cluster this week.</p></body></html>');
    writeFileSync(path.join(dir, 'docs/claims.pdf'), 'this file says it is a PDF and is not');
    copyFileSync(codeFile, path.join(dir, 'src/parser.ts'));
    server = await startTemporal();
    worker = await startTestWorker(server, testConfig({}, { EMBEDDING_PROVIDER: 'offline' }));
    tc = await testClient(server);
    const input: IngestInput = { collection, source: { kind: 'directory', path: dir }, chunking: { chunkTokens: 128, overlapTokens: 0 } };
    result = await tc.client.workflow.execute(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `ingest-${collection}`, args: [input] });
  });

  after(async () => {
    await tc?.close();
    await worker?.stop();
    await withPg((c) => c.query(`DROP TABLE IF EXISTS public.${collection}`)).catch(() => undefined);
    await server?.stop();
  });

  it('ingests every format; the file that only claims to be a PDF fails alone', async () => {
    assert.equal(result.counters.documentsListed, 6);
    assert.equal(result.counters.documentsFailed, 1);
    assert.equal(result.counters.chunksFailed, 0);
    const docs = new Set((await rows()).map((r) => r.document_id));
    assert.deepEqual([...docs].sort(), ['docs/guide.pdf', 'docs/notes.md', 'docs/page.html', 'docs/spec.docx', 'src/parser.ts']);
  });

  it('PDF rows carry the page of their passage, the title, size and modification time', async () => {
    const all = await rows();
    const pageOf = (word: string) => all.filter((r) => r.content.includes(word)).map((r) => r.metadata.page);
    assert.deepEqual(pageOf('zebra passage'), [1]);
    assert.deepEqual(pageOf('walrus passage'), [2]);
    assert.deepEqual(pageOf('pelican passage'), [3]);
    const pdf = all.find((r) => r.content.includes('walrus passage'))!.metadata;
    assert.equal(pdf.format, 'pdf');
    assert.equal(pdf.path, 'docs/guide.pdf');
    assert.equal(pdf.title, 'Operations Guide');
    assert.equal(pdf.byte_size, statSync(path.join(dir, 'docs/guide.pdf')).size);
    assert.equal(pdf.modified_at, statSync(path.join(dir, 'docs/guide.pdf')).mtime.toISOString());
  });

  it('DOCX, markdown and HTML rows carry heading paths and titles; code rows their language', async () => {
    const all = await rows();
    const meta = (word: string) => all.find((r) => r.content.includes(word))!.metadata;
    assert.equal(meta('heron flag').heading_path, 'Install > Linux');
    assert.equal(meta('heron flag').title, 'Ingest Specification');
    assert.equal(meta('heron flag').format, 'docx');
    assert.equal(meta('hour of the lynx').heading_path, 'Notes > Backups');
    assert.equal(meta('marmot cluster').heading_path, 'Status > Incidents');
    assert.equal(meta('marmot cluster').title, 'Status Page');
    const code = all.filter((r) => r.document_id === 'src/parser.ts');
    assert.ok(code.length > 1 && code.every((r) => r.metadata.language === 'typescript' && r.metadata.format === 'code'));
    assert.ok(code.some((r) => String(r.metadata.heading_path ?? '').startsWith('class Parser')));
  });

  it('search finds the passage from page 2 of the PDF, with page 2 in its result', async () => {
    const deps: SearchDeps = { store: worker.deps.store, sinks: worker.deps.sinks, embedder: worker.deps.embedder };
    const r = await searchCollection(deps, { collection, query: 'The walrus passage lives on page two: each worker embeds four batches at once.', limit: 3, where: ['format=pdf'] });
    assert.ok(r.results.length > 0);
    const top = r.results[0]!;
    assert.match(top.content, /walrus passage lives on page two/);
    assert.equal(top.metadata.page, 2);
    assert.ok(r.results.every((x) => x.metadata.format === 'pdf'));
  });
});
