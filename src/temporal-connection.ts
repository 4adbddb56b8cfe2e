import { readFileSync } from 'node:fs';
import type { Config } from './config';
import { ConfigError } from './errors';

export interface TemporalConnectionOptions {
  address: string;
  tls?: boolean | { clientCertPair?: { crt: Buffer; key: Buffer } };
  apiKey?: string;
  metadata?: Record<string, string>;
}

/**
 * Connection options for a Temporal server: plain for local ones, TLS (+ mTLS certificate or
 * API key) for Temporal Cloud and secured clusters. Shared by clients and workers.
 */
export function temporalConnectionOptions(config: Config, address: string): TemporalConnectionOptions {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`cannot read ${what} ${file}: ${(err as Error).message}`);
    }
  };
  const mtls = config.temporalTlsCert && config.temporalTlsKey
    ? { clientCertPair: { crt: read(config.temporalTlsCert, 'TEMPORAL_TLS_CERT'), key: read(config.temporalTlsKey, 'TEMPORAL_TLS_KEY') } }
    : undefined;
  const tls = mtls ?? (config.temporalApiKey || config.temporalTls === 'true' ? true : undefined);
  return {
    address,
    ...(tls !== undefined && { tls }),
    ...(config.temporalApiKey && { apiKey: config.temporalApiKey }),
  };
}
