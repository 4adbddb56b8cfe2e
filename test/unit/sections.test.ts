import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkDocument } from '../../src/text/document';
import { DEFAULT_FORMAT_LIMITS } from '../../src/text/formats';
import { chunkSections, embeddingText } from '../../src/text/sections';
import { countTokens } from '../../src/text/tokenizer';
import { htmlSections } from '../../src/text/html-sections';

const md = (text: string, chunkTokens = 64) =>
  chunkDocument({ documentId: 'guide.md', bytes: Buffer.from(text), format: 'markdown', chunking: { chunkTokens, overlapTokens: 8 }, limits: DEFAULT_FORMAT_LIMITS });

const para = (word: string, n: number) => Array.from({ length: n }, (_, i) => `${word} sentence number ${i} about ${word}.`).join(' ');

describe('structure-aware chunking', () => {
  it('gives each chunk its heading path and the document title, and never straddles an h2', async () => {
    const chunks = await md(
      `# Guide\n\nIntro line.\n\n## Install\n\n${para('install', 10)}\n\n### Linux\n\n${para('linux', 10)}\n\n## Usage\n\n${para('usage', 3)}\n`,
      128,
    );
    const paths = chunks.map((c) => c.metadata.heading_path);
    assert.ok(chunks.every((c) => c.metadata.title === 'Guide'));
    // "Usage" text is in no chunk that also holds "Install" text
    for (const c of chunks) assert.ok(!(c.content.includes('usage sentence') && c.content.includes('install sentence')), c.content);
    const usage = chunks.find((c) => c.content.includes('usage sentence'))!;
    assert.equal(usage.metadata.heading_path, 'Guide > Usage');
    const linux = chunks.find((c) => c.content.includes('linux sentence'))!;
    assert.equal(linux.metadata.heading_path, 'Guide > Install > Linux');
    // the tiny intro ("Guide" + "Intro line.") joins the section it introduces instead of standing alone
    assert.ok(chunks[0]!.content.startsWith('Guide\n\nIntro line.'), chunks[0]!.content);
    assert.ok(paths.every((p) => p !== undefined));
  });

  it('opens a long first section with the title above it instead of a chunk holding only the title', async () => {
    const chunks = await md(`# Guide\n\n## Install\n\n${para('install', 14)}\n`, 64);
    assert.ok(chunks.length >= 2, 'the long section is cut into several chunks');
    assert.ok(chunks.every((c) => c.content.includes('install sentence')), chunks.map((c) => c.content).join(' | '));
    assert.ok(chunks[0]!.content.startsWith('Guide\n\nInstall\n\ninstall sentence number 0'), chunks[0]!.content);
  });

  it('puts the heading path before the text that is embedded, not in the stored content', async () => {
    const chunks = await md(`# Guide\n\n## Install\n\n### Linux\n\n${para('linux', 12)}\n`, 64);
    const deep = chunks.filter((c) => c.metadata.heading_path === 'Guide > Install > Linux');
    assert.ok(deep.length >= 2, 'the long Linux section is cut into several chunks, each keeping its path');
    for (const c of deep) {
      assert.equal(c.embedPrefix, 'Guide > Install > Linux');
      assert.ok(!c.content.startsWith('Guide > Install'));
      assert.equal(embeddingText(c.embedPrefix, c.content), `Guide > Install > Linux\n\n${c.content}`);
      // the limit holds for what is embedded, prefix included
      assert.ok(countTokens(embeddingText(c.embedPrefix, c.content)) <= 64 + 2, `${countTokens(embeddingText(c.embedPrefix, c.content))} tokens`);
    }
  });

  it('lets small sections under one h2 share a chunk, under their common heading path', async () => {
    const chunks = await md(`## Install\n\n### Linux\n\nRun it.\n\n### Mac\n\nRun it too.\n\n## Usage\n\n${para('usage', 2)}\n`, 128);
    assert.equal(chunks[0]!.content, 'Install\n\nLinux\n\nRun it.\n\nMac\n\nRun it too.');
    assert.equal(chunks[0]!.metadata.heading_path, 'Install');
    assert.equal(chunks[1]!.metadata.heading_path, 'Usage');
  });

  it('does not carry the tail of one h1 into the next', async () => {
    const chunks = await md(`# A\n\n${para('alpha', 6)}\n\n## A2\n\nShort end.\n\n# B\n\n${para('beta', 2)}\n`, 256);
    const b = chunks.find((c) => c.content.includes('beta sentence'))!;
    assert.ok(!b.content.includes('Short end.'));
    assert.equal(b.metadata.heading_path, 'B');
  });

  it('keeps PDF pages apart even when they are tiny', () => {
    const sections = [1, 2, 3].map((page) => ({ text: `Page ${page} text.`, headingPath: [], page, major: true }));
    const chunks = chunkSections(sections, { chunkTokens: 256, overlapTokens: 0 });
    assert.deepEqual(chunks.map((c) => [c.page, c.text]), [[1, 'Page 1 text.'], [2, 'Page 2 text.'], [3, 'Page 3 text.']]);
  });

  it('reads HTML titles and headings nested in other elements', async () => {
    const html = `<html><head><title>The Manual</title></head><body><div><h1>Top</h1><p>${para('one', 3)}</p><section><h2>Part <em>two</em></h2><p>two body</p></section></div></body></html>`;
    const chunks = await chunkDocument({ documentId: 'm.html', bytes: Buffer.from(html), format: 'html', chunking: { chunkTokens: 40, overlapTokens: 0 }, limits: DEFAULT_FORMAT_LIMITS });
    assert.ok(chunks.every((c) => c.metadata.title === 'The Manual' && c.metadata.format === 'html'));
    const two = chunks.find((c) => c.content.includes('two body'))!;
    assert.equal(two.metadata.heading_path, 'Top > Part two');
  });
});

describe('htmlSections on a large page', () => {
  it('keeps the end of a page over 16 MiB (html-to-text cut its input there, silently)', () => {
    const filler = '<p>lorem ipsum dolor sit amet consectetur.</p>\n'.repeat(400_000); // ~18.4 MB
    const html = `<h1>Top</h1>${filler}<h2>Last</h2><p>the-very-last-words</p>`;
    assert.ok(html.length > 16_777_216);
    const doc = htmlSections(html);
    const last = doc.sections[doc.sections.length - 1]!;
    assert.match(last.text, /the-very-last-words/);
    assert.deepEqual(last.headingPath, ['Top', 'Last']);
  });
});
