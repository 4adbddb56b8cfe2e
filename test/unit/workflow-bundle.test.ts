import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

// The build (npm ci / npm run build / scripts/test.sh) compiles dist/ and bundles the workflows
// into dist/workflow-bundle.js; the CLI worker uses that bundle only while it matches the code.
const root = path.resolve(__dirname, '..', '..');
const dist = path.join(root, 'dist');

function load(dir: string): { prebuiltWorkflowBundle(): { codePath: string } | undefined } {
  return require(path.join(dir, 'src', 'workflow-bundle.js'));
}

test('the build leaves a workflow bundle that the worker picks up', () => {
  assert.ok(existsSync(path.join(dist, 'workflow-bundle.js')), 'dist/workflow-bundle.js missing: run npm run build');
  assert.deepEqual(load(dist).prebuiltWorkflowBundle(), { codePath: path.join(dist, 'workflow-bundle.js') });
});

test('a bundle older than the compiled code is not used (the worker bundles at startup instead)', () => {
  mkdirSync(path.join(root, 'tmp'), { recursive: true });
  const copy = mkdtempSync(path.join(root, 'tmp', 'bundle-'));
  try {
    cpSync(path.join(dist, 'src'), path.join(copy, 'src'), { recursive: true });
    for (const f of ['workflow-bundle.js', 'workflow-bundle.js.sha256']) cpSync(path.join(dist, f), path.join(copy, f));
    const mod = load(copy);
    assert.deepEqual(mod.prebuiltWorkflowBundle(), { codePath: path.join(copy, 'workflow-bundle.js') });
    appendFileSync(path.join(copy, 'src', 'workflows', 'ingest.js'), '\n// edited after the bundle was built\n');
    assert.equal(mod.prebuiltWorkflowBundle(), undefined);
    rmSync(path.join(copy, 'workflow-bundle.js.sha256'));
    assert.equal(mod.prebuiltWorkflowBundle(), undefined);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
