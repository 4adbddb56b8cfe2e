import { xorshift32 } from '../prng';
import { ConfigError } from '../errors';
import { defineSourceKind, type Source, type SourceItem, type SourcePage } from './types';

const WORDS = (
  'temporal workflow activity vector embedding chunk document index search query retry batch window ' +
  'history cursor worker queue schedule replay failure token model collection point upsert delete ' +
  'postgres qdrant hash cache stream page signal update durable idempotent bounded latency throughput'
).split(' ');

/**
 * A deterministic generated corpus for benchmarks and scale tests: `documents` markdown
 * documents of about `tokensPerDocument` tokens each. Nothing is held in memory; a document's
 * text is a pure function of (seed, index, revision), so a million-document corpus costs nothing
 * to "store", and bumping `revision` changes every document.
 */
export class SyntheticSource implements Source {
  constructor(
    private readonly documents: number,
    private readonly tokensPerDocument = 600,
    private readonly seed = 1,
    private readonly revision = 0,
  ) {}

  describe(): string {
    return `synthetic corpus of ${this.documents} documents`;
  }

  static idOf(i: number): string {
    return `doc-${String(i).padStart(9, '0')}.md`;
  }

  async listPage(cursor: string | null, limit: number): Promise<SourcePage> {
    const start = cursor === null ? 0 : Number(cursor.slice(4, 13)) + 1;
    const end = Math.min(this.documents, start + limit);
    const items: SourceItem[] = [];
    // A document's text is a function of these, so they are its fingerprint.
    const fingerprint = `s${this.seed}r${this.revision}t${this.tokensPerDocument}`;
    for (let i = start; i < end; i++) items.push({ id: SyntheticSource.idOf(i), format: 'markdown', fingerprint });
    return { items, nextCursor: end < this.documents ? SyntheticSource.idOf(end - 1) : null };
  }

  async read(item: SourceItem): Promise<Uint8Array> {
    const i = Number(item.id.slice(4, 13));
    return Buffer.from(syntheticText(this.seed, i, this.revision, this.tokensPerDocument), 'utf8');
  }
}

export const syntheticSource = defineSourceKind({
  kind: 'synthetic',
  open(spec) {
    if (!Number.isInteger(spec.documents) || spec.documents < 0) {
      throw new ConfigError('source.documents must be a non-negative integer for a synthetic source');
    }
    return new SyntheticSource(spec.documents, spec.tokensPerDocument, spec.seed, spec.revision);
  },
});

export function syntheticText(seed: number, index: number, revision: number, tokens: number): string {
  const next = xorshift32(seed * 2654435761 + index * 40503 + revision * 9973);
  const parts: string[] = [`# Document ${index}\n`];
  let words = 0;
  // roughly one token per word for this vocabulary
  while (words < tokens) {
    const len = 8 + (next() % 12);
    const sentence: string[] = [];
    for (let w = 0; w < len; w++) sentence.push(WORDS[next() % WORDS.length]!);
    parts.push(`${sentence.join(' ')} ${index}.${words}.`);
    words += len + 4;
    if (next() % 5 === 0) parts.push('\n\n');
  }
  return parts.join(' ');
}
