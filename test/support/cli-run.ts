import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { DevServer } from '../../src/embedded/temporal';
import { tempDir } from './env';

const BIN = path.resolve(__dirname, '../../bin/vector-ingest.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to the test process's environment (LOG_LEVEL is warn unless this sets it). */
  env?: NodeJS.ProcessEnv;
  /** Removed from the inherited environment before `env` is added. */
  unset?: readonly string[];
  /** Killed (SIGKILL) after this long; default 60 s. */
  timeoutMs?: number;
}

/** What a user with no configuration has: every variable that points the CLI at a server or an embedder is unset. */
export const UNCONFIGURED = [
  'TEMPORAL_ADDRESS',
  'DATABASE_URL',
  'QDRANT_URL',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'EMBEDDING_PROVIDER',
  'EMBEDDING_MODEL',
  'EMBEDDING_DIMENSIONS',
  'VECTOR_INGEST_DATA_DIR',
] as const;

/** The compiled `vector-ingest` CLI, run as a user runs it: its own process, in an empty working directory. */
export function runCli(args: string[], o: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
    for (const name of o.unset ?? []) delete env[name];
    Object.assign(env, o.env);
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: tempDir('vi-cwd-') });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The CLI against a test server whose worker runs in the test process. */
export function cliAgainst(server: DevServer, args: string[], o: CliOptions = {}): Promise<CliResult> {
  return runCli(args, { timeoutMs: 40_000, ...o, env: { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace, ...o.env } });
}
