import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { xorshift32 } from '../../src/prng';

/**
 * A deterministic fixture corpus: nested folders of markdown, HTML and plain text, mostly small
 * with a few large documents, so chunking, batching across documents, paging and
 * continue-as-new all get exercised.
 */
export interface CorpusSpec {
  files: number;
  largeFiles: number;
  seed?: number;
}

const TOPICS = ['retries', 'batches', 'vectors', 'schedules', 'workers', 'cursors', 'failures', 'tokens', 'history', 'queues'];
const WORDS = (
  'the a of to and in is for on with that by this be are from as it at an or which can each when ' +
  'workflow activity embedding chunk document index vector search retry batch window queue worker ' +
  'schedule replay cursor token model collection point history durable idempotent bounded latency'
).split(' ');


function sentences(next: () => number, count: number, tag: string): string[] {
  const out: string[] = [];
  for (let s = 0; s < count; s++) {
    const len = 6 + (next() % 14);
    const words: string[] = [];
    for (let w = 0; w < len; w++) words.push(WORDS[next() % WORDS.length]!);
    words[0] = words[0]!.charAt(0).toUpperCase() + words[0]!.slice(1);
    out.push(`${words.join(' ')} ${tag}-${s}.`);
  }
  return out;
}

export function buildCorpus(root: string, spec: CorpusSpec): string[] {
  const next = xorshift32(spec.seed ?? 7);
  const ids: string[] = [];
  for (let i = 0; i < spec.files; i++) {
    const topic = TOPICS[i % TOPICS.length]!;
    const depth = i % 4;
    const dirs = [topic, `part${i % 3}`, `sub${i % 5}`].slice(0, depth);
    const kind = i % 3 === 0 ? 'md' : i % 3 === 1 ? 'html' : 'txt';
    const large = i < spec.largeFiles;
    const paragraphs = large ? 150 + (next() % 50) : 1 + (next() % 6);
    const tag = `d${i}`;
    const paras = Array.from({ length: paragraphs }, (_, p) => sentences(next, 2 + (next() % 5), `${tag}p${p}`).join(' '));
    let body: string;
    if (kind === 'md') {
      body = `# ${topic} ${i}\n\n${paras.map((p, k) => (k % 4 === 0 ? `## Section ${k}\n\n${p}` : p)).join('\n\n')}\n`;
    } else if (kind === 'html') {
      body = `<!doctype html><html><head><title>${topic} ${i}</title></head><body><h1>${topic} ${i}</h1>${paras
        .map((p) => `<p>${p}</p>`)
        .join('\n')}</body></html>\n`;
    } else {
      body = `${topic} ${i}\n\n${paras.join('\n\n')}\n`;
    }
    const rel = [...dirs, `${topic}-${String(i).padStart(4, '0')}.${kind}`].join('/');
    mkdirSync(path.join(root, ...dirs), { recursive: true });
    writeFileSync(path.join(root, rel), body);
    ids.push(rel);
  }
  return ids;
}
