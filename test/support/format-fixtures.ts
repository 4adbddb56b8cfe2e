import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * Real PDF and DOCX files for the format tests, made by programs other than the code under
 * test: Debian's chromium prints HTML to PDF (and screenshots a page for a scanned PDF), pandoc
 * writes DOCX from markdown, qpdf encrypts a PDF and repeats a page 10,000 times, Python's
 * zipfile builds a zip bomb. Installed by scripts/infra/install-format-tools.sh.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-pdf-header-footer'];

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): void {
  execFileSync(cmd, args, { cwd: opts.cwd, input: opts.input, stdio: ['pipe', 'ignore', 'pipe'], timeout: 60_000 });
}

function chromium(args: string[]): void {
  const profile = mkdtempSync(path.join(tmpdir(), 'vi-chromium-'));
  try {
    run(CHROMIUM, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args]);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

export function printPdf(html: string, out: string): void {
  const src = `${out}.html`;
  writeFileSync(src, html);
  chromium([`--print-to-pdf=${out}`, `file://${src}`]);
  rmSync(src);
  if (!existsSync(out)) throw new Error(`chromium wrote no ${out}`);
}

export function screenshot(html: string, out: string): void {
  const src = `${out}.html`;
  writeFileSync(src, html);
  chromium(['--window-size=900,600', `--screenshot=${out}`, `file://${src}`]);
  rmSync(src);
}

export function pandocDocx(markdown: string, out: string): void {
  run('pandoc', ['--from', 'markdown', '--to', 'docx', '--output', out], { input: markdown });
}

export function encryptPdf(input: string, out: string): void {
  run('qpdf', ['--encrypt', 'user-secret', 'owner-secret', '256', '--', input, out]);
}

/** A PDF of `pages` pages, each a copy of `input`'s first page. */
export function repeatPage(input: string, pages: number, out: string): void {
  run('qpdf', ['--empty', '--pages', input, Array(pages).fill('1').join(','), '--', out]);
}

/** A copy of a DOCX with one more entry: `bytes` zero bytes that deflate to almost nothing. */
export function zipBomb(docx: string, bytes: number, out: string): void {
  const py = `import shutil, sys, zipfile
shutil.copy(sys.argv[1], sys.argv[2])
with zipfile.ZipFile(sys.argv[2], 'a', zipfile.ZIP_DEFLATED) as z:
    with z.open('word/media/filler.bin', 'w', force_zip64=True) as f:
        chunk = bytes(1 << 20)
        for _ in range(int(sys.argv[3]) >> 20):
            f.write(chunk)`;
  run('python3', ['-c', py, docx, out, String(bytes)]);
}

/** Three pages, a passage on each that says its page, a table on page 2, a title. */
export const GUIDE_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>Operations Guide</title>
<style>body{font-family:sans-serif} section{break-after:page}</style></head><body>
<section><h1>Operations Guide</h1><p>The zebra passage lives on page one: the night shift restarts the ingestion worker.</p></section>
<section><h2>Capacity</h2><p>The walrus passage lives on page two: each worker embeds four batches at once.</p>
<table border="1"><tr><th>Setting</th><th>Default</th></tr><tr><td>embed concurrency</td><td>4</td></tr><tr><td>page size</td><td>200</td></tr></table></section>
<section><h2>Recovery</h2><p>The pelican passage lives on page three: failed documents wait in the replay workflow.</p>
<p>The office staff finished the difficult final fjord.</p></section>
</body></html>`;

export const SPEC_MARKDOWN = `---
title: Ingest Specification
---

# Overview

The specification covers how documents are ingested.

# Install

## Linux

Run the installer with the heron flag on Linux machines.

## Windows

Run the setup program with the osprey flag on Windows machines.

# Limits

Documents larger than the limit are refused with a clear error.
`;

export interface FormatFixtures {
  dir: string;
  guidePdf: string;
  scannedPdf: string;
  encryptedPdf: string;
  hugePdf: string;
  specDocx: string;
  bombDocx: string;
}

/** Builds every fixture into `dir` (a few seconds: chromium starts three times). */
export function buildFormatFixtures(dir: string): FormatFixtures {
  const f: FormatFixtures = {
    dir,
    guidePdf: path.join(dir, 'guide.pdf'),
    scannedPdf: path.join(dir, 'scanned.pdf'),
    encryptedPdf: path.join(dir, 'encrypted.pdf'),
    hugePdf: path.join(dir, 'huge.pdf'),
    specDocx: path.join(dir, 'spec.docx'),
    bombDocx: path.join(dir, 'bomb.docx'),
  };
  printPdf(GUIDE_HTML, f.guidePdf);
  const png = path.join(dir, 'scan.png');
  screenshot('<html><body style="font:32px serif"><p>This page was scanned: its words are pixels.</p></body></html>', png);
  printPdf(`<html><body style="margin:0"><img src="file://${png}" style="width:100%"></body></html>`, f.scannedPdf);
  rmSync(png);
  encryptPdf(f.guidePdf, f.encryptedPdf);
  repeatPage(f.guidePdf, 10_000, f.hugePdf);
  pandocDocx(SPEC_MARKDOWN, f.specDocx);
  zipBomb(f.specDocx, 150 * 1024 * 1024, f.bombDocx);
  return f;
}
