import { ConfigError } from '../errors';
import type { SourceSpec } from '../contracts/ingest';
import { processSourceContext } from './context';
import { directorySource } from './directory';
import { gitSource } from './git';
import { postgresSource } from './postgres-table';
import { webSource } from './web';
import { s3Source } from './s3';
import { syntheticSource } from './synthetic';
import type { Source, SourceContext, SourceKind } from './types';

/**
 * Every source kind the worker can open. A new kind is one file, src/sources/<kind>.ts,
 * exporting `defineSourceKind({ kind, open })`, its spec in src/contracts/sources/<kind>.ts,
 * and one line here.
 */
const KINDS: ReadonlyArray<SourceKind> = [
  directorySource,
  syntheticSource,
  gitSource,
  postgresSource,
  webSource,
  s3Source,
];

const BY_KIND = new Map<string, SourceKind>(KINDS.map((k) => [k.kind, k]));

export function sourceKinds(): string[] {
  return [...BY_KIND.keys()];
}

/** Opens a source from its spec (no I/O). `ctx` is the worker's; without one, this process's. */
export function openSource(spec: SourceSpec, ctx: SourceContext = processSourceContext()): Source {
  const kind = typeof spec === 'object' && spec !== null ? (spec as { kind?: unknown }).kind : undefined;
  const def = typeof kind === 'string' ? BY_KIND.get(kind) : undefined;
  if (!def) {
    throw new ConfigError(`unknown source kind ${JSON.stringify(kind)}; expected one of ${sourceKinds().map((k) => `"${k}"`).join(', ')}`);
  }
  return def.open(spec, ctx);
}

/**
 * Opens the source and checks it can be listed (host, credentials, ref, table, columns), so a
 * bad source fails the run with a ConfigError before anything is written.
 */
export async function validateSource(spec: SourceSpec, ctx?: SourceContext): Promise<Source> {
  const source = openSource(spec, ctx);
  await source.validate?.();
  return source;
}

export { createSourceContext, processSourceContext, type ClosableSourceContext } from './context';
export { defineSourceKind } from './types';
export type { Source, SourceContext, SourceItem, SourceKind, SourcePage } from './types';
