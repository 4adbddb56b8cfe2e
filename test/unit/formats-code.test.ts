import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DocumentError } from '../../src/errors';
import { chunkDocument, type DocumentChunk } from '../../src/text/document';
import { formatOf } from '../../src/text/extract';
import { DEFAULT_FORMAT_LIMITS } from '../../src/text/formats';

// Real source files from packages in node_modules (written by their authors, not by this code).
const req = createRequire(__filename);
/** A package's folder: up from its resolved entry point to the folder named like the package. */
const pkgDir = (name: string) => {
  let dir = path.dirname(req.resolve(name));
  while (!dir.endsWith(path.join('node_modules', name))) dir = path.dirname(dir);
  return dir;
};
const FILES = {
  ts: path.join(pkgDir('pg-protocol'), 'src/parser.ts'),
  js: path.join(pkgDir('pg'), 'lib/client.js'),
  rs: path.join(pkgDir('@temporalio/core-bridge'), 'bridge-macros/src/derive_tryintojs.rs'),
  go: path.join(pkgDir('@temporalio/core-bridge'), 'sdk-core/crates/protos/protos/api_upstream/cmd/protoc-gen-nexus-rpc-yaml/generator.go'),
};

const chunk = (file: string, chunkTokens = 256) =>
  chunkDocument({ documentId: path.basename(file), bytes: readFileSync(file), format: formatOf(file)!, chunking: { chunkTokens, overlapTokens: 0 }, limits: DEFAULT_FORMAT_LIMITS });

/** Every chunk starts and ends at whitespace (or the file's ends) in the source: no identifier is cut. */
function assertCleanCuts(original: string, chunks: DocumentChunk[]): void {
  // chunkText rejoins the paragraphs of a definition larger than a chunk with one blank line
  const norm = (s: string) => s.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n');
  const source = norm(original);
  let from = 0;
  for (const c of chunks) {
    const content = norm(c.content);
    const at = source.indexOf(content, from);
    assert.ok(at >= 0, `chunk ${c.index} is not a contiguous stretch of the file`);
    const before = at === 0 ? '\n' : source[at - 1]!;
    const after = at + content.length >= source.length ? '\n' : source[at + content.length]!;
    assert.match(before, /\s/, `chunk ${c.index} starts mid-token: ...${source.slice(at - 10, at + 10)}`);
    assert.match(after, /\s/, `chunk ${c.index} ends mid-token`);
    from = at + 1;
  }
}

describe('source code format', () => {
  for (const [ext, file] of Object.entries(FILES)) {
    it(`splits ${ext} (${path.basename(file)}) along its definitions, with the language and clean cuts`, async () => {
      const source = readFileSync(file, 'utf8');
      const chunks = await chunk(file);
      assert.ok(chunks.length > 1);
      const language = { ts: 'typescript', js: 'javascript', rs: 'rust', go: 'go' }[ext];
      assert.ok(chunks.every((c) => c.metadata.format === 'code' && c.metadata.language === language));
      assertCleanCuts(source, chunks);
      // nothing lost: every non-blank line of the file is in some chunk
      const all = chunks.map((c) => c.content).join('\n');
      for (const line of source.split('\n')) if (line.trim()) assert.ok(all.includes(line.trim()), `lost line: ${line}`);
    });
  }

  it('names chunks by what they define', async () => {
    const ts = await chunk(FILES.ts);
    assert.ok(ts.some((c) => c.metadata.heading_path?.startsWith('class Parser')), JSON.stringify(ts.map((c) => c.metadata.heading_path)));
    const ts2 = await chunk(FILES.ts, 128);
    assert.ok(ts2.some((c) => /^class Parser > method \w+/.test(c.metadata.heading_path ?? '')), 'a class larger than a chunk is split into its methods');
    const rs = await chunk(FILES.rs, 128);
    assert.ok(rs.some((c) => c.metadata.heading_path === 'function derive_tryintojs_struct'), JSON.stringify(rs.map((c) => c.metadata.heading_path)));
    const go = await chunk(FILES.go, 128);
    assert.ok(go.some((c) => c.metadata.heading_path === 'function parseParams'), JSON.stringify(go.map((c) => c.metadata.heading_path)));
    // a function's chunk starts with the function (and the comment above it), not in its middle
    const parse = go.find((c) => c.metadata.heading_path === 'function parseParams')!;
    assert.match(parse.content, /^(\/\/.*\n)*func parseParams/);
  });

  it('refuses a 50 MB minified line per document, saying why', async () => {
    const line = `var a=${'1+'.repeat(25 * 1024 * 1024)}1;`;
    await assert.rejects(
      chunkDocument({ documentId: 'dist/app.min.js', bytes: Buffer.from(line), format: 'code', chunking: { chunkTokens: 256, overlapTokens: 0 }, limits: DEFAULT_FORMAT_LIMITS }),
      (e: unknown) => e instanceof DocumentError && e.type === 'LineTooLong' && /^dist\/app\.min\.js: line 1 is \d+ characters/.test(e.message),
    );
  });

  it('the line limit is a setting: a lower one refuses a line the default lets through', async () => {
    const source = `export const table = [${Array.from({ length: 60 }, (_, i) => i).join(', ')}];\n`;
    const input = { documentId: 'table.ts', bytes: Buffer.from(source), format: 'code', chunking: { chunkTokens: 256, overlapTokens: 0 } };
    assert.ok((await chunkDocument({ ...input, limits: DEFAULT_FORMAT_LIMITS })).length > 0);
    await assert.rejects(
      chunkDocument({ ...input, limits: { ...DEFAULT_FORMAT_LIMITS, maxCodeLineBytes: 100 } }),
      (e: unknown) => e instanceof DocumentError && e.type === 'LineTooLong' && /line 1 is \d+ characters long; the limit is 100 \(VECTOR_INGEST_MAX_CODE_LINE_BYTES\)/.test(e.message),
    );
  });

  it('chunks SQL (no grammar) by lines, language kept', async () => {
    const sql = Array.from({ length: 40 }, (_, i) => `CREATE TABLE t${i} (id int PRIMARY KEY, name text NOT NULL);`).join('\n\n');
    const chunks = await chunkDocument({ documentId: 'schema.sql', bytes: Buffer.from(sql), format: 'code', chunking: { chunkTokens: 64, overlapTokens: 0 }, limits: DEFAULT_FORMAT_LIMITS });
    assert.ok(chunks.length > 1 && chunks.every((c) => c.metadata.language === 'sql'));
    assertCleanCuts(sql, chunks);
  });
});
