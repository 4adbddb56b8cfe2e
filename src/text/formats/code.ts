import { createRequire } from 'node:module';
import { Language, Parser, type Node } from '@vscode/tree-sitter-wasm';
import { DocumentError } from '../../errors';
import { decodeUtf8 } from '../decode';
import type { ExtractContext, Format, Section } from './types';

/**
 * Languages by extension, and the tree-sitter grammar each is parsed with (the grammars VS Code
 * ships, built against the same runtime: @vscode/tree-sitter-wasm). C is parsed with the C++
 * grammar (a superset for what matters here: functions, structs); SQL has no grammar there and
 * is chunked by blank lines and lines like text, with its language still in the metadata.
 */
const LANGUAGES: Record<string, { language: string; grammar?: string }> = {
  '.ts': { language: 'typescript', grammar: 'typescript' },
  '.mts': { language: 'typescript', grammar: 'typescript' },
  '.cts': { language: 'typescript', grammar: 'typescript' },
  '.tsx': { language: 'tsx', grammar: 'tsx' },
  '.js': { language: 'javascript', grammar: 'javascript' },
  '.mjs': { language: 'javascript', grammar: 'javascript' },
  '.cjs': { language: 'javascript', grammar: 'javascript' },
  '.jsx': { language: 'javascript', grammar: 'javascript' },
  '.py': { language: 'python', grammar: 'python' },
  '.go': { language: 'go', grammar: 'go' },
  '.rs': { language: 'rust', grammar: 'rust' },
  '.java': { language: 'java', grammar: 'java' },
  '.c': { language: 'c', grammar: 'cpp' },
  '.h': { language: 'c', grammar: 'cpp' },
  '.cpp': { language: 'cpp', grammar: 'cpp' },
  '.cc': { language: 'cpp', grammar: 'cpp' },
  '.cxx': { language: 'cpp', grammar: 'cpp' },
  '.hpp': { language: 'cpp', grammar: 'cpp' },
  '.hh': { language: 'cpp', grammar: 'cpp' },
  '.cs': { language: 'csharp', grammar: 'c-sharp' },
  '.rb': { language: 'ruby', grammar: 'ruby' },
  '.php': { language: 'php', grammar: 'php' },
  '.sh': { language: 'bash', grammar: 'bash' },
  '.bash': { language: 'bash', grammar: 'bash' },
  '.ps1': { language: 'powershell', grammar: 'powershell' },
  '.css': { language: 'css', grammar: 'css' },
  '.sql': { language: 'sql' },
};

const requireHere = createRequire(__filename);
let ready: Promise<void> | undefined;
const parsers = new Map<string, Promise<Parser>>();

/** One runtime per process, one parser per grammar, loaded on first use. */
function parserFor(grammar: string): Promise<Parser> {
  let p = parsers.get(grammar);
  if (!p) {
    ready ??= Parser.init();
    p = ready.then(async () => {
      const lang = await Language.load(requireHere.resolve(`@vscode/tree-sitter-wasm/wasm/tree-sitter-${grammar}.wasm`));
      const parser = new Parser();
      parser.setLanguage(lang);
      return parser;
    });
    p.catch(() => parsers.delete(grammar));
    parsers.set(grammar, p);
  }
  return p;
}

/** Rough tokens of code (about 3.5 characters each): only decides whether to split a definition. */
const approxTokens = (s: string): number => Math.ceil(s.length / 3.5);

/**
 * Source code split along its syntax tree: top-level definitions (functions, classes, types)
 * with the comments above them are sections named by what they define ("class Store >
 * method get"); a definition larger than a chunk is split into its members. Sections are
 * contiguous, so every character of the file is in exactly one section, and cuts fall between
 * syntax nodes, never inside an identifier. A line over `maxCodeLineBytes` (minified or
 * generated code) refuses the document.
 */
export const code: Format = {
  name: 'code',
  extensions: Object.keys(LANGUAGES),
  async extract(bytes, ctx) {
    const ext = ctx.path.slice(ctx.path.lastIndexOf('.')).toLowerCase();
    const lang = LANGUAGES[ext]!;
    const source = decodeUtf8(ctx.documentId, bytes);
    checkLines(source, ctx);
    if (!lang.grammar) return { text: source, metadata: { language: lang.language } };
    const parser = await parserFor(lang.grammar);
    const tree = parser.parse(source);
    if (!tree) return { text: source, metadata: { language: lang.language } };
    try {
      const budget = ctx.chunkTokens ?? 512;
      const sections = split(source, tree.rootNode, 0, source.length, [], budget, 0);
      return { sections, metadata: { language: lang.language } };
    } finally {
      tree.delete();
    }
  },
};

function checkLines(source: string, ctx: ExtractContext): void {
  let start = 0;
  let lineNo = 1;
  while (start <= source.length) {
    let end = source.indexOf('\n', start);
    if (end < 0) end = source.length;
    if (end - start > ctx.limits.maxCodeLineBytes) {
      throw new DocumentError(
        'LineTooLong',
        `${ctx.documentId}: line ${lineNo} is ${end - start} characters long; the limit is ${ctx.limits.maxCodeLineBytes} ` +
          '(VECTOR_INGEST_MAX_CODE_LINE_BYTES): it looks minified or generated',
      );
    }
    start = end + 1;
    lineNo++;
  }
}

const MAX_DEPTH = 3;

/**
 * Sections of source[from, to), cut after each named child of `node` (comments stay with what
 * follows them). A child larger than the budget that has members (a class body) is split again.
 */
function split(source: string, node: Node, from: number, to: number, path: string[], budget: number, depth: number): Section[] {
  const children = node.namedChildren.filter((c): c is Node => c !== null && c.endIndex > from && c.startIndex < to);
  const out: Section[] = [];
  let start = from;
  const push = (end: number, p: string[]) => {
    const text = source.slice(start, end);
    if (text.trim().length > 0) out.push({ text, headingPath: p, major: false, verbatim: true });
    start = end;
  };
  for (const [i, child] of children.entries()) {
    if (child.type === 'comment' && i < children.length - 1) continue;
    const label = labelOf(child);
    const childPath = label ? [...path, label] : path;
    const end = i === children.length - 1 ? to : child.endIndex;
    const body = child.childForFieldName('body') ?? declarationBody(child);
    const members = body?.namedChildren.filter((c): c is Node => c !== null) ?? [];
    if (depth < MAX_DEPTH && body && members.length > 1 && approxTokens(source.slice(start, end)) > budget) {
      // The header up to the first member, then each member; the closing tail goes with the last.
      const firstMember = members[0]!;
      const headerEnd = firstMember.startIndex;
      push(headerEnd, childPath);
      out.push(...split(source, body, start, end, childPath, budget, depth + 1));
      start = end;
      continue;
    }
    push(end, childPath);
  }
  if (start < to) {
    const rest = source.slice(start, to);
    if (rest.trim().length > 0) {
      if (out.length > 0) out[out.length - 1]!.text += rest;
      else out.push({ text: rest, headingPath: path, major: false, verbatim: true });
    }
  }
  return out;
}

/** `export class A {}` and `@decorator def f()`: the body is the wrapped declaration's. */
function declarationBody(node: Node): Node | null {
  const inner = node.childForFieldName('declaration') ?? node.childForFieldName('definition');
  return inner?.childForFieldName('body') ?? null;
}

const KIND = /_(declaration|definition|item|statement|specifier|signature)$/;

/** "class Store", "function get", "const handler": what a definition defines, if anything. */
function labelOf(node: Node): string | undefined {
  const inner = node.childForFieldName('declaration') ?? node.childForFieldName('definition') ?? node;
  const name = nameOf(inner);
  if (!name) return undefined;
  let kind = inner.type.replace(KIND, '').replace(/_/g, ' ');
  if (inner.type === 'lexical_declaration' || inner.type === 'variable_declaration') kind = inner.child(0)?.text ?? 'var';
  return `${kind} ${name}`.slice(0, 120);
}

function nameOf(node: Node): string | undefined {
  const direct = node.childForFieldName('name') ?? node.childForFieldName('type');
  if (direct && direct.text.length <= 80) return direct.text;
  // C/C++: the name is inside the declarator chain (function_declarator → identifier).
  let d = node.childForFieldName('declarator');
  for (let i = 0; d && i < 4; i++) {
    const next = d.childForFieldName('declarator');
    if (!next) break;
    d = next;
  }
  if (d && /identifier|name/.test(d.type) && d.text.length <= 80) return d.text;
  // const x = ..., type_declaration (Go): the first declarator/spec's name.
  for (const c of node.namedChildren) {
    if (!c) continue;
    if (/declarator|_spec$/.test(c.type)) {
      const n = c.childForFieldName('name');
      if (n && n.text.length <= 80) return n.text;
    }
  }
  return undefined;
}
