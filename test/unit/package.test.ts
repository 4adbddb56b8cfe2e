import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  main?: string;
  bin?: Record<string, string>;
  dependencies: Record<string, string>;
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|js)$/.test(n) ? [p] : [];
  });
}

// Issue 11 item 8: package.json's `main` named a file that does not exist, and a runtime
// dependency (pg-copy-streams) was used by benchmarks only.
describe('package.json', () => {
  it('names only entry points that exist', () => {
    if (pkg.main !== undefined) assert.ok(existsSync(path.join(root, pkg.main)) || existsSync(path.join(root, pkg.main.replace(/^dist\//, '').replace(/\.js$/, '.ts'))), `main ${pkg.main} does not exist`);
    for (const bin of Object.values(pkg.bin ?? {})) assert.ok(existsSync(path.join(root, bin)), `bin ${bin} does not exist`);
  });

  it('every runtime dependency is used by the product (src/ or bin/), not only by tests or benchmarks', () => {
    const code = [...sources(path.join(root, 'src')), ...sources(path.join(root, 'bin'))].map((f) => readFileSync(f, 'utf8')).join('\n');
    const unused = Object.keys(pkg.dependencies).filter((d) => !code.includes(`'${d}'`) && !code.includes(`'${d}/`) && !code.includes(`"${d}"`));
    assert.deepEqual(unused, []);
  });
});
