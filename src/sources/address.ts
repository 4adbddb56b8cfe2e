import * as path from 'node:path';
import { ConfigError } from '../errors';
import type { PostgresSourceSpec, SourceSpec } from '../contracts/ingest';

/**
 * One addressing scheme for every source kind, used by `ingest`, `watch` and `schedule`:
 *
 *   /some/dir, ./docs                       directory (resolved to an absolute path)
 *   git+https://host/org/repo.git#main      git (any git URL after `git+`; `#ref` optional)
 *   git+file:///srv/repo#v1.2               git, a repository on the worker's disk
 *   https://host/sitemap.xml                web, from a sitemap
 *   https://host/docs/                      web, crawled within that origin and path prefix
 *   s3://bucket/prefix                      s3
 *   postgres://ENV_VAR/schema.table?id=id&text=title,body[&metadata=a,b][&updated_at=col][&format=markdown]
 *                                           postgres; ENV_VAR names the worker's variable that
 *                                           holds the connection string (never the string itself)
 *   {"kind": ...}                           a source spec as JSON, as `temporal workflow start` takes it
 */
export function parseSourceAddress(address: string, cwd = process.cwd()): SourceSpec {
  const a = address.trim();
  if (a.length === 0) throw new ConfigError('the source is empty; give a directory, git+<url>#<ref>, http(s)://…, s3://bucket/prefix or postgres://ENV/table?…');
  if (a.startsWith('{')) {
    try {
      return JSON.parse(a) as SourceSpec;
    } catch (err) {
      throw new ConfigError(`the source looks like JSON but does not parse: ${(err as Error).message}`);
    }
  }
  if (/^git\+/i.test(a)) return parseGit(a.slice(4));
  if (/^https?:\/\//i.test(a)) {
    try {
      new URL(a);
    } catch {
      throw new ConfigError(`${JSON.stringify(a)} is not a valid URL`);
    }
    return { kind: 'web', url: a };
  }
  if (/^s3:\/\//i.test(a)) return parseS3(a);
  if (/^postgres(ql)?:\/\//i.test(a)) return parsePostgres(a);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(a)) {
    throw new ConfigError(`unknown source address scheme in ${JSON.stringify(a)}; expected a directory, git+<url>#<ref>, http(s)://…, s3://… or postgres://ENV/table?…`);
  }
  return { kind: 'directory', path: path.resolve(cwd, a) };
}

function parseGit(rest: string): SourceSpec {
  const hash = rest.lastIndexOf('#');
  const url = hash >= 0 ? rest.slice(0, hash) : rest;
  const ref = hash >= 0 ? decodeURIComponent(rest.slice(hash + 1)) : '';
  if (!url) throw new ConfigError('git+<url>#<ref>: the URL is missing');
  let u = url;
  if (/^file:\/\//i.test(url)) {
    // git+file:///srv/repo: the worker's local path (git reads file:// too, but a path names the mirror the same either way)
    u = decodeURIComponent(new URL(url).pathname);
  }
  return { kind: 'git', url: u, ...(ref ? { ref } : {}) };
}

function parseS3(a: string): SourceSpec {
  const m = /^s3:\/\/([^/?#]+)\/?([^?#]*)$/i.exec(a);
  if (!m) throw new ConfigError(`${JSON.stringify(a)} is not s3://bucket/prefix`);
  return { kind: 's3', bucket: m[1]!, ...(m[2] ? { prefix: decodeURIComponent(m[2]) } : {}) };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parsePostgres(a: string): SourceSpec {
  const m = /^postgres(?:ql)?:\/\/([^/?#]*)\/([^?#]+)(?:\?([^#]*))?$/i.exec(a);
  if (!m) throw new ConfigError(`${JSON.stringify(a)} is not postgres://ENV_VAR/schema.table?id=…&text=…`);
  const env = m[1]!;
  if (!ENV_NAME.test(env)) {
    throw new ConfigError(
      `postgres source: ${JSON.stringify(env)} is not an environment variable name. The address names the worker's variable that holds the connection string (postgres://DOCS_DB/public.articles?…), so no password reaches workflow history`,
    );
  }
  const q = new URLSearchParams(m[3] ?? '');
  const list = (k: string) => (q.get(k) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const id = q.get('id');
  const text = list('text');
  if (!id) throw new ConfigError('postgres source: ?id=<column> is required (a unique, non-null column)');
  if (text.length === 0) throw new ConfigError('postgres source: ?text=<column>[,<column>…] is required');
  const format = q.get('format');
  if (format !== null && !['text', 'markdown', 'html'].includes(format)) throw new ConfigError(`postgres source: format must be text, markdown or html, got ${JSON.stringify(format)}`);
  const known = new Set(['id', 'text', 'metadata', 'updated_at', 'format']);
  for (const k of q.keys()) if (!known.has(k)) throw new ConfigError(`postgres source: unknown parameter ${JSON.stringify(k)} (known: ${[...known].join(', ')})`);
  const spec: PostgresSourceSpec = { kind: 'postgres', connectionEnv: env, table: decodeURIComponent(m[2]!), id, text };
  if (list('metadata').length > 0) spec.metadata = list('metadata');
  if (q.get('updated_at')) spec.updatedAt = q.get('updated_at')!;
  if (format) spec.format = format as PostgresSourceSpec['format'];
  return spec;
}

/** A short, secret-free description of a spec for summaries and logs (the inverse of parsing, roughly). */
export function formatSourceAddress(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'directory':
      return spec.path;
    case 'git':
      return `git+${spec.url.startsWith('/') ? `file://${spec.url}` : spec.url}${spec.ref ? `#${spec.ref}` : ''}`;
    case 'web':
      return spec.url;
    case 's3':
      return `s3://${spec.bucket}/${spec.prefix ?? ''}`;
    case 'postgres':
      return `postgres://${spec.connectionEnv}/${spec.table}?id=${spec.id}&text=${spec.text.join(',')}${spec.updatedAt ? `&updated_at=${spec.updatedAt}` : ''}`;
    case 'synthetic':
      return `synthetic corpus of ${spec.documents} documents`;
    default:
      return JSON.stringify(spec);
  }
}
