import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/env';

// Determinism: histories recorded from real runs (test/support/record-histories.ts) must replay
// against the current workflow code. A change that would break workflows already running in
// production fails here; such a change needs `patched()`.
describe('recorded histories replay against the current workflow code', () => {
  const dir = path.resolve(__dirname, '../histories');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('has histories of the ingest and replay workflows to check', () => {
    assert.ok(files.some((f) => f.startsWith('ingest-')), 'no ingest history recorded');
    assert.ok(files.some((f) => f.startsWith('replay-')), 'no replay history recorded');
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      // The Temporal CLI's JSON export (`temporal workflow show --output json`), as recorded.
      const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { events?: unknown[] };
      assert.ok((history.events?.length ?? 0) > 10, 'history too short to mean anything');
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file.replace(/\.json$/, ''));
    });
  }
});
