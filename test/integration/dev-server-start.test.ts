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

// The embedded server's own settings (src/embedded/temporal.ts): the transfer queue reader may
// poll more than 20 times a second (each hop of a small run beside a busy one waited for its next
// poll: BENCHMARKS.md §9), and the on-disk database runs in write-ahead-log mode. The real binary
// behind a wrapper that records its arguments; the database file's header says its journal mode.
test('the embedded dev server gets its dispatch config, and its on-disk database runs in WAL mode', async () => {
  const real = process.env.TEMPORAL_CLI_PATH;
  assert.ok(real, 'TEMPORAL_CLI_PATH must point at the temporal CLI (scripts/infra/all.sh)');
  const dir = tempDir('vi-dev-config-');
  const argsFile = path.join(dir, 'args');
  const wrapper = path.join(dir, 'temporal');
  writeFileSync(wrapper, `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > ${JSON.stringify(argsFile)}\nexec ${JSON.stringify(real)} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const server = await startDevServer({ dataDir: dir, cliPath: wrapper, headless: true });
  try {
    const args = readFileSync(argsFile, 'utf8').trim().split('\n');
    const values = (flag: string) => args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));
    assert.ok(values('--dynamic-config-value').includes('history.transferProcessorMaxPollRPS=1000'), args.join(' '));
    assert.deepEqual(values('--sqlite-pragma').sort(), ['journal_mode=wal', 'synchronous=normal']);
    // SQLite's header: bytes 18 and 19 are the file format's write and read versions, 2 in WAL mode (1: rollback journal).
    const header = readFileSync(path.join(dir, 'temporal.db')).subarray(0, 20);
    assert.deepEqual([header[18], header[19]], [2, 2], 'the database is not in WAL mode');
  } finally {
    await server.stop();
  }
});
