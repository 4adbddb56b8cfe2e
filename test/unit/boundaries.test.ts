import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

// The import rules of docs/ARCHITECTURE.md ("Who may import whom"), checked on every file of
// src/, so the page stays true. Type-only imports are erased at build time and allowed where noted.

const SRC = path.resolve(__dirname, '../../src');

interface Import {
  file: string; // relative to src/, POSIX
  spec: string; // as written
  target: string; // src-relative path for relative imports, else the package name
  typeOnly: boolean;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return filesUnder(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function importsOf(abs: string): Import[] {
  const sf = ts.createSourceFile(abs, readFileSync(abs, 'utf8'), ts.ScriptTarget.Latest, false);
  const file = path.relative(SRC, abs).split(path.sep).join('/');
  const out: Import[] = [];
  for (const st of sf.statements) {
    let spec: string | undefined;
    let typeOnly = false;
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      spec = st.moduleSpecifier.text;
      const clause = st.importClause;
      const named = clause?.namedBindings;
      typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)));
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      spec = st.moduleSpecifier.text;
      typeOnly = st.isTypeOnly;
    }
    if (spec === undefined) continue;
    const target = spec.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)) : spec;
    out.push({ file, spec, target, typeOnly });
  }
  return out;
}

const ALL = filesUnder(SRC).flatMap(importsOf);
const under = (dir: string) => (i: Import) => i.file.startsWith(`${dir}/`);
const isIn = (target: string, ...dirs: string[]) => dirs.some((d) => target === d || target.startsWith(`${d}/`));
const show = (bad: Import[]) => bad.map((i) => `${i.file} imports ${i.spec}${i.typeOnly ? ' (type)' : ''}`).join('\n');

/** Each rule returns the imports that break it. */
const RULES: Record<string, (all: Import[]) => Import[]> = {
  'workflow code imports only the SDK, contracts, naming and other workflow files (types excepted)': (all) =>
    all
      .filter(under('workflows'))
      .filter((i) => !(i.typeOnly || ['@temporalio/workflow', '@temporalio/common'].includes(i.target) || isIn(i.target, 'workflows', 'contracts', 'naming'))),
  'contracts import nothing but other contracts': (all) => all.filter(under('contracts')).filter((i) => !isIn(i.target, 'contracts')),
  'sinks, embedders, sources, text, state and search know nothing of Temporal, activities, workflows or the CLI': (all) =>
    all
      .filter((i) => ['sinks', 'embedders', 'sources', 'text', 'state', 'search'].some((p) => under(p)(i)))
      .filter((i) => i.target.startsWith('@temporalio/') || isIn(i.target, 'activities', 'workflows', 'cli', 'stack', 'worker', 'deps')),
  'sinks and embedders know nothing of each other': (all) => [
    ...all.filter(under('sinks')).filter((i) => isIn(i.target, 'embedders')),
    ...all.filter(under('embedders')).filter((i) => isIn(i.target, 'sinks')),
  ],
};

describe('import boundaries (docs/ARCHITECTURE.md)', () => {
  it('reads the imports of every part', () => {
    for (const dir of ['workflows', 'activities', 'contracts', 'sinks', 'embedders', 'sources', 'text', 'state', 'search']) {
      assert.ok(ALL.some(under(dir)), `no imports found under src/${dir}`);
    }
    const replay = ALL.filter((i) => i.file === 'workflows/replay.ts');
    assert.ok(replay.some((i) => i.target === 'activities' && i.typeOnly), 'the replay workflow imports the activity types, type-only');
  });

  for (const [rule, broken] of Object.entries(RULES)) {
    it(rule, () => assert.equal(show(broken(ALL)), ''));
  }

  it('each rule catches an import that breaks it', () => {
    const bad: Import[] = [
      { file: 'workflows/x.ts', spec: '../sinks/pgvector', target: 'sinks/pgvector', typeOnly: false },
      { file: 'contracts/x.ts', spec: 'node:fs', target: 'node:fs', typeOnly: false },
      { file: 'text/x.ts', spec: '@temporalio/activity', target: '@temporalio/activity', typeOnly: false },
      { file: 'sinks/x.ts', spec: '../embedders/types', target: 'embedders/types', typeOnly: true },
    ];
    for (const [rule, broken] of Object.entries(RULES)) assert.equal(broken(bad).length, 1, rule);
  });
});

// docs/ARCHITECTURE.md: each workflow concern is a unit of its own, so no workflow file grows
// back into one long function. A file that needs more is a concern that wants splitting out.
const MAX_WORKFLOW_FILE_LINES = 200;

describe('workflow files stay small', () => {
  const files = filesUnder(path.join(SRC, 'workflows'));
  it('reads the workflow files', () => assert.ok(files.length >= 10, `only ${files.length} files under src/workflows`));
  it(`no file under src/workflows/ has more than ${MAX_WORKFLOW_FILE_LINES} lines`, () => {
    const long = files
      .map((f) => ({ file: path.relative(SRC, f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((f) => f.lines > MAX_WORKFLOW_FILE_LINES)
      .map((f) => `${f.file}: ${f.lines} lines`);
    assert.deepEqual(long, []);
  });
});
