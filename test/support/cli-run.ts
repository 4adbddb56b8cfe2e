import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { DevServer } from '../../src/embedded/temporal';
import { tempDir } from './env';

const BIN = path.resolve(__dirname, '../../bin/vector-ingest.js');

/** The compiled `vector-ingest` CLI against a test server whose worker runs in the test process. */
export function cliAgainst(server: DevServer, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace };
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: tempDir('vi-cwd-') });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
