import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rmSync } from 'node:fs';
import { DocumentError } from '../../src/errors';
import { chunkDocument } from '../../src/text/document';
import { formatOf } from '../../src/text/extract';
import { DEFAULT_FORMAT_LIMITS } from '../../src/text/formats';
import { buildFormatFixtures, type FormatFixtures } from '../support/format-fixtures';
import { tempDir } from '../support/env';

// PDFs printed by chromium, DOCX written by pandoc, a PDF encrypted and one of 10,000 pages made
// by qpdf, a zip bomb made by Python's zipfile: files the code under test did not write
// (scripts/infra/install-format-tools.sh installs the programs).
const chunk = (file: string, chunkTokens = 512, limits = DEFAULT_FORMAT_LIMITS) =>
  chunkDocument({ documentId: path.basename(file), bytes: readFileSync(file), format: formatOf(file)!, chunking: { chunkTokens, overlapTokens: 0 }, limits });

const refusal = (type: string, message: RegExp) => (e: unknown) => {
  assert.ok(e instanceof DocumentError, `expected a DocumentError, got ${String(e)}`);
  assert.equal(e.type, type);
  assert.match(e.message, message);
  return true;
};

describe('PDF and DOCX from other programs', () => {
  let f: FormatFixtures;
  before(() => {
    f = buildFormatFixtures(tempDir('vi-formats-'));
  });
  after(() => rmSync(f.dir, { recursive: true, force: true }));

  it('PDF: text per page, page numbers on the chunks, title from the document', async () => {
    const chunks = await chunk(f.guidePdf);
    const pageOf = (word: string) => chunks.filter((c) => c.content.includes(word)).map((c) => c.metadata.page);
    assert.deepEqual(pageOf('zebra passage lives on page one'), [1]);
    assert.deepEqual(pageOf('walrus passage lives on page two'), [2]);
    assert.deepEqual(pageOf('pelican passage lives on page three'), [3]);
    assert.ok(chunks.every((c) => c.metadata.format === 'pdf' && c.metadata.title === 'Operations Guide'));
    // the table's cells come out as words of a line each row (its structure is lost; README says so)
    const p2 = chunks.find((c) => c.metadata.page === 2)!.content;
    assert.match(p2, /Setting Default/);
    assert.match(p2, /embed concurrency 4/);
    // words a font may draw with ligature glyphs come back as letters
    assert.match(chunks.find((c) => c.metadata.page === 3)!.content, /The office staff finished the difficult final fjord\./);
  });

  it('PDF: a scanned page (no text layer) is refused, saying so', async () => {
    await assert.rejects(chunk(f.scannedPdf), refusal('NoTextLayer', /^scanned\.pdf: none of its 1 pages has a text layer \(scanned\?\); run OCR/));
  });

  it('PDF: an encrypted one is refused', async () => {
    await assert.rejects(chunk(f.encryptedPdf), refusal('EncryptedDocument', /^encrypted\.pdf: is encrypted \(password-protected\)/));
  });

  it('PDF: 10,000 pages are refused before any page is read', async () => {
    await assert.rejects(chunk(f.hugePdf), refusal('TooManyPages', /^huge\.pdf: has 10000 pages; the limit is 2000 \(VECTOR_INGEST_MAX_PDF_PAGES\)/));
  });

  it('PDF: the page limit is a setting (VECTOR_INGEST_MAX_PDF_PAGES): a lower one refuses the 3-page guide', async () => {
    await assert.rejects(chunk(f.guidePdf, 512, { ...DEFAULT_FORMAT_LIMITS, maxPdfPages: 2 }), refusal('TooManyPages', /^guide\.pdf: has 3 pages; the limit is 2 /));
  });

  it('PDF: a file that claims to be PDF and is not, and a corrupt one', async () => {
    const fake = path.join(f.dir, 'fake.pdf');
    writeFileSync(fake, '<html><body>I am HTML</body></html>');
    await assert.rejects(chunk(fake), refusal('FormatMismatch', /^fake\.pdf: is named \.pdf but is not a PDF \(no %PDF- header; it looks like markup/));
    const broken = path.join(f.dir, 'broken.pdf');
    const real = readFileSync(f.guidePdf);
    writeFileSync(broken, Buffer.concat([real.subarray(0, 200), Buffer.alloc(2000, 0x7a)]));
    await assert.rejects(chunk(broken), (e: unknown) => e instanceof DocumentError && ['CorruptDocument', 'NoTextLayer'].includes(e.type) && e.message.startsWith('broken.pdf: '));
  });

  it('DOCX: headings kept as heading paths, Word title as the title', async () => {
    const chunks = await chunk(f.specDocx, 24);
    assert.ok(chunks.every((c) => c.metadata.format === 'docx' && c.metadata.title === 'Ingest Specification'), JSON.stringify(chunks.map((c) => c.metadata)));
    const heron = chunks.find((c) => c.content.includes('heron flag'))!;
    assert.equal(heron.metadata.heading_path, 'Install > Linux');
    assert.equal(heron.embedPrefix, 'Install > Linux');
    const osprey = chunks.find((c) => c.content.includes('osprey flag'))!;
    assert.equal(osprey.metadata.heading_path, 'Install > Windows');
    const limits = chunks.find((c) => c.content.includes('refused with a clear error'))!;
    assert.equal(limits.metadata.heading_path, 'Limits');
  });

  it('DOCX: a zip bomb is refused from its zip directory, before inflating', async () => {
    await assert.rejects(chunk(f.bombDocx), refusal('ZipBomb', /^bomb\.docx: would inflate from \d+ to \d+ bytes; the limit is 104857600 \(VECTOR_INGEST_MAX_UNZIPPED_BYTES\)/));
  });

  it('DOCX: the inflate limit is a setting (VECTOR_INGEST_MAX_UNZIPPED_BYTES): a lower one refuses an ordinary document', async () => {
    await assert.rejects(chunk(f.specDocx, 512, { ...DEFAULT_FORMAT_LIMITS, maxUnzippedBytes: 1000 }), refusal('ZipBomb', /^spec\.docx: would inflate from \d+ to \d+ bytes; the limit is 1000 /));
  });

  it('DOCX: a .docx that is not a zip', async () => {
    const fake = path.join(f.dir, 'fake.docx');
    writeFileSync(fake, 'just text');
    await assert.rejects(chunk(fake), refusal('FormatMismatch', /^fake\.docx: is named \.docx but is not a zip container/));
  });
});
