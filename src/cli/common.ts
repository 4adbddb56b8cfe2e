import { Connection, Client } from '@temporalio/client';
import { Option, type Command } from 'commander';
import { loadConfig, type Config, type RawConfig } from '../config';
import { createLogger, type Logger } from '../log';
import type { Services } from '../stack';

/** Exit codes: scripts and CI can tell these apart. */
export const EXIT = {
  ok: 0,
  failed: 1, // the run failed (or an unexpected error)
  usage: 2, // bad flags or configuration
  conflict: 3, // a run of that collection is already in progress
  notFound: 4, // no such collection/run
  partial: 5, // the run finished, but some documents or chunks failed
} as const;

export interface GlobalOpts {
  temporalAddress?: string;
  namespace?: string;
  apiKey?: string;
  tlsCert?: string;
  tlsKey?: string;
  databaseUrl?: string;
  dataDir?: string;
  logLevel?: string;
}

export function addGlobalOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--temporal-address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS; unset: embedded dev server)'))
    .addOption(new Option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE)'))
    .addOption(new Option('--api-key <key>', 'Temporal Cloud API key (env TEMPORAL_API_KEY; prefer the env var: flags show in ps)'))
    .addOption(new Option('--tls-cert <file>', 'mTLS client certificate, PEM (env TEMPORAL_TLS_CERT)'))
    .addOption(new Option('--tls-key <file>', 'mTLS client key, PEM (env TEMPORAL_TLS_KEY)'))
    .addOption(new Option('--database-url <url>', 'Postgres with pgvector (env DATABASE_URL; unset: embedded PGlite)'))
    .addOption(new Option('--data-dir <dir>', 'data directory of the embedded services (env VECTOR_INGEST_DATA_DIR)'))
    .addOption(new Option('--log-level <level>', 'log level (env LOG_LEVEL)').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']));
}

export function configFrom(opts: GlobalOpts, extra: Partial<RawConfig> = {}): Config {
  return loadConfig(process.env, {
    temporalAddress: opts.temporalAddress,
    temporalNamespace: opts.namespace,
    temporalApiKey: opts.apiKey,
    temporalTlsCert: opts.tlsCert,
    temporalTlsKey: opts.tlsKey,
    databaseUrl: opts.databaseUrl,
    dataDir: opts.dataDir,
    logLevel: opts.logLevel as RawConfig['logLevel'],
    ...extra,
  });
}

export function loggerFor(config: Config): Logger {
  return createLogger(config.logLevel);
}

export async function connectClient(services: Services): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect(services.connection);
  return { client: new Client({ connection, namespace: services.namespace }), close: () => connection.close() };
}

export function uiLink(uiUrl: string | undefined, namespace: string, workflowId: string, runId?: string): string | undefined {
  if (!uiUrl) return undefined;
  const base = `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

export function parseIntOption(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return n;
  };
}
