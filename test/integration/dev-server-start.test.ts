import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { startDevServer } from '../../src/embedded/temporal';
import { tempDir } from '../support/env';

// The real dev server picks its internal ports itself and, rarely, loses one to another process
// ("bind: address already in use"), which once failed a CLI test. The first start here is a
// stand-in that fails exactly that way (we cannot make the real binary lose the race on cue);
// the second is the real `temporal` binary, which must then be up and answering.
test('a dev server that loses a port race at startup is started again', async () => {
  const real = process.env.TEMPORAL_CLI_PATH;
  assert.ok(real, 'TEMPORAL_CLI_PATH must point at the temporal CLI (scripts/infra/all.sh)');
  const dir = tempDir('vi-port-race-');
  const counter = path.join(dir, 'starts');
  writeFileSync(counter, '');
  const fake = path.join(dir, 'temporal');
  writeFileSync(
    fake,
    `#!/usr/bin/env bash
echo x >> ${JSON.stringify(counter)}
if [ "$(wc -l < ${JSON.stringify(counter)})" -eq 1 ]; then
  echo 'time=now level=ERROR msg="Failed to start gRPC listener" error="listen tcp 127.0.0.1:1: bind: address already in use"'
  exit 2
fi
exec ${JSON.stringify(real)} "$@"
`,
  );
  chmodSync(fake, 0o755);
  const messages: string[] = [];
  const server = await startDevServer({ dataDir: dir, cliPath: fake, headless: true, inMemory: true, log: (m) => messages.push(m) });
  try {
    assert.equal(readFileSync(counter, 'utf8').trim().split('\n').length, 2, 'started twice');
    assert.ok(messages.some((m) => m.includes('lost a port race')), messages.join('\n'));
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
  } finally {
    await server.stop();
  }
});

test('a dev server that fails for another reason is not retried', async () => {
  const dir = tempDir('vi-dev-fail-');
  const counter = path.join(dir, 'starts');
  writeFileSync(counter, '');
  const fake = path.join(dir, 'temporal');
  writeFileSync(fake, `#!/usr/bin/env bash\necho x >> ${JSON.stringify(counter)}\necho 'unable to open database file'\nexit 1\n`);
  chmodSync(fake, 0o755);
  await assert.rejects(startDevServer({ dataDir: dir, cliPath: fake, headless: true, inMemory: true }), /temporal dev server exited with 1; see .*temporal\.log/);
  assert.equal(readFileSync(counter, 'utf8').trim().split('\n').length, 1);
});
