import { readFileSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { TemporalFailureReporter } from './temporal-failure-reporter';
import { TemporalRunLiveness } from './temporal-run-liveness';
import { temporalConnectionOptions, type TemporalConnectionOptions } from './temporal-connection';
import { searchAttributesRegistered } from './search-attributes-check';
import type { Config } from './config';
import { buildDeps, type Deps } from './deps';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded/pglite';
import { freePort, isListening } from './embedded/ports';
import { tracingFromEnv } from './tracing/setup';
import { startMetricsServer, type MetricsServer } from './metrics/server';
import { startDevServer, type DevServer } from './embedded/temporal';
import type { Logger } from './log';
import { createWorkerSet, type WorkerSet, type WorkerSetOptions } from './worker';
import { installRuntime } from './runtime';

/**
 * What a command needs around it: a Temporal address and a database, either the configured
 * ones or embedded ones started here. `vector-ingest dev` records its embedded services in
 * <data dir>/dev.json so that other commands on the same data dir use them instead of starting
 * their own (a PGlite directory can only be open in one process).
 */
export interface Services {
  temporalAddress: string;
  /** How to connect: TLS and API key for a configured remote server, plain for embedded ones. */
  connection: TemporalConnectionOptions;
  namespace: string;
  uiUrl?: string;
  databaseUrl?: string;
  /** True when a running `vector-ingest dev` provides the services (and a worker). */
  fromDev: boolean;
  stop(): Promise<void>;
}

interface DevRecord {
  pid: number;
  temporalAddress: string;
  namespace: string;
  uiUrl?: string;
  databaseUrl?: string;
}

const devFile = (dataDir: string) => path.join(dataDir, 'dev.json');

export function writeDevRecord(dataDir: string, rec: DevRecord): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(devFile(dataDir), JSON.stringify(rec, null, 2));
}

export function clearDevRecord(dataDir: string): void {
  rmSync(devFile(dataDir), { force: true });
}

async function runningDev(dataDir: string): Promise<DevRecord | undefined> {
  let rec: DevRecord;
  try {
    rec = JSON.parse(readFileSync(devFile(dataDir), 'utf8')) as DevRecord;
  } catch {
    return undefined;
  }
  try {
    process.kill(rec.pid, 0);
  } catch {
    return undefined;
  }
  const [host, port] = rec.temporalAddress.split(':');
  return (await isListening(host!, Number(port))) ? rec : undefined;
}

export interface ServiceOptions {
  needDatabase: boolean;
  /** False for commands that only read the database (search): no Temporal server is started. */
  needTemporal?: boolean;
  /** Fixed ports for the embedded dev server (the `dev` command); otherwise free ones. */
  temporalPort?: number;
  uiPort?: number;
  headless?: boolean;
}

export async function startServices(config: Config, log: Logger, o: ServiceOptions): Promise<Services> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err) => log.warn({ err: (err as Error).message }, 'stopping a service failed'));
  };
  const needTemporal = o.needTemporal !== false && !config.temporalAddress;
  const needDb = o.needDatabase && !config.databaseUrl;
  const dev = needTemporal || needDb ? await runningDev(config.dataDir) : undefined;
  if (dev && (needTemporal || needDb)) {
    log.info({ pid: dev.pid }, 'using the services of the running `vector-ingest dev`');
    const address = config.temporalAddress ?? dev.temporalAddress;
    return {
      temporalAddress: address,
      connection: config.temporalAddress ? temporalConnectionOptions(config, address) : { address },
      namespace: config.temporalAddress ? config.temporalNamespace : dev.namespace,
      uiUrl: config.temporalAddress ? config.temporalUiUrl : dev.uiUrl,
      databaseUrl: config.databaseUrl ?? dev.databaseUrl,
      fromDev: needTemporal,
      stop,
    };
  }
  let temporalAddress = config.temporalAddress;
  let namespace = config.temporalNamespace;
  let uiUrl: string | undefined = config.temporalUiUrl;
  try {
    if (needTemporal) {
      const server: DevServer = await startDevServer({
        dataDir: config.dataDir,
        cliPath: config.temporalCliPath,
        port: o.temporalPort,
        uiPort: o.uiPort,
        headless: o.headless,
        namespace,
        log: (m) => log.info(m),
      });
      stops.push(() => server.stop());
      temporalAddress = server.address;
      namespace = server.namespace;
      uiUrl = server.uiUrl;
    }
    let databaseUrl = config.databaseUrl;
    if (needDb) {
      const pg: EmbeddedPostgres = await startEmbeddedPostgres(config.dataDir);
      stops.push(() => pg.stop());
      databaseUrl = pg.url;
      log.info(`embedded PGlite + pgvector in ${path.join(config.dataDir, 'pglite')}`);
    }
    // Without needTemporal and TEMPORAL_ADDRESS the address is empty: nothing may connect to it.
    const address = temporalAddress ?? '';
    const connection = config.temporalAddress ? temporalConnectionOptions(config, address) : { address };
    return { temporalAddress: address, connection, namespace, uiUrl, databaseUrl, fromDev: false, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface RunningWorker {
  set: WorkerSet;
  deps: Deps;
  connection: NativeConnection;
  /** Resolves after the workers drained and every client closed. */
  done: Promise<void>;
}

export interface StartWorkerOptions extends Pick<WorkerSetOptions, 'workflowBundle' | 'shutdownGraceTime' | 'tracing'> {
  /** Prometheus port; 0 = off (default: the config's). */
  metricsPort?: number;
}

/** Builds clients, starts the workers, and closes clients only after the workers drained. */
export async function startWorker(config: Config, log: Logger, services: Services, opts: StartWorkerOptions = {}): Promise<RunningWorker> {
  if (!services.databaseUrl) throw new Error('internal: the worker needs a database URL');
  const metricsPort = opts.metricsPort ?? config.metricsPort;
  // Spans by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (a caller's own tracing wins; it owns it).
  const ownTracing = opts.tracing ? undefined : tracingFromEnv();
  const tracing = opts.tracing ?? ownTracing;
  if (ownTracing) log.info({ endpoint: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'exporting traces by OTLP');
  const sdkMetricsPort = metricsPort ? await freePort() : undefined;
  installRuntime(log, { sdkMetricsBind: sdkMetricsPort ? `127.0.0.1:${sdkMetricsPort}` : undefined });
  // A client of its own for signalling replay workflows; closed with the other clients.
  const clientConnection = await Connection.connect(services.connection);
  const client = new Client({ connection: clientConnection, namespace: services.namespace });
  let deps: Deps;
  try {
    const searchAttributes = await searchAttributesRegistered(client, services.namespace, log);
    deps = await buildDeps(config, log, services.databaseUrl, {
      failures: new TemporalFailureReporter(client, { searchAttributes, autoRetryEvery: config.replayEvery }),
      searchAttributes,
      runs: new TemporalRunLiveness(client),
    });
  } catch (err) {
    await clientConnection.close();
    await ownTracing?.shutdown().catch(() => undefined);
    throw err;
  }
  let connection: NativeConnection;
  let set: WorkerSet;
  try {
    connection = await NativeConnection.connect(services.connection);
    set = await createWorkerSet({
      connection,
      namespace: services.namespace,
      config,
      deps,
      workflowBundle: opts.workflowBundle,
      shutdownGraceTime: opts.shutdownGraceTime,
      ...(tracing && { tracing }),
    });
  } catch (err) {
    await deps.close();
    await clientConnection.close();
    await ownTracing?.shutdown().catch(() => undefined);
    throw err;
  }
  let metricsServer: MetricsServer | undefined;
  if (metricsPort) {
    const store = deps.store;
    metricsServer = await startMetricsServer({
      host: config.metricsHost,
      port: metricsPort,
      sdkMetricsUrl: `http://127.0.0.1:${sdkMetricsPort}/metrics`,
      backlog: () => store.staging.backlog(),
    });
    log.info({ url: metricsServer.url }, 'Prometheus metrics');
  }
  const done = set
    .run()
    .finally(async () => {
      await metricsServer?.close();
      await deps.close();
      await clientConnection.close();
      await connection.close();
      await ownTracing?.shutdown().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'flushing traces failed'));
    });
  return { set, deps, connection, done };
}
