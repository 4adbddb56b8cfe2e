import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorsOf, loadQdrantSchema } from './schema';
import { matches, nearest, type Filter, type StoredPoint } from './points';

/**
 * A local stand-in for Qdrant's REST API, for machines where no Qdrant server can run.
 *
 * What it verifies: every request body and every response body it sends is validated against
 * Qdrant's published OpenAPI schema (schema.ts says which copy); a request that does not conform
 * is answered 400 and recorded in `violations`, which tests assert stays empty. Requests to a
 * route the schema does not describe are recorded in `violations` too.
 *
 * Search (the query API, POST points/query, and the older POST points/search) is exact: every
 * point passing the filter is scored by cosine similarity, so results equal brute force.
 *
 * What it does NOT verify: behaviour beyond the routes the sink uses (collection get/create/
 * delete, aliases (list, change: create/delete/rename; resolved by every collection route), payload index, upsert, delete by filter, count, scroll, query, search); filter
 * semantics beyond must/should/must_not with match value/any/text and numeric range; queries
 * other than a plain dense vector (no prefetch, fusion, sparse, recommend, order_by); HNSW and
 * its approximation (hnsw_ef is accepted and ignored); distance metrics other than Cosine;
 * full-text tokenizers other than lowercase words; consistency, replication, sharding, snapshots,
 * optimizers; the exact error messages and status codes of a real server beyond 400/404/429/503;
 * and schema changes made after the snapshot it validates against. A real Qdrant (QDRANT_URL)
 * covers those in test/integration/qdrant-sink.test.ts.
 */
export interface QdrantStandIn {
  url: string;
  schemaVersion: string;
  violations: string[];
  requests: Record<string, number>;
  collections: Map<string, StandInCollection>;
  /** Alias name → collection name (POST /collections/aliases). */
  aliases: Map<string, string>;
  /** A collection by its name or an alias of it, as the routes resolve it. */
  collection(nameOrAlias: string): StandInCollection | undefined;
  /** The next n requests answer `status` (429 carries Retry-After: 1). */
  failNext(n: number, status: 429 | 500 | 503): void;
  close(): Promise<void>;
}

export interface StandInCollection {
  size: number;
  distance: string;
  points: Map<string, StoredPoint>;
  indexes: Record<string, string>;
}

export async function startQdrantStandIn(): Promise<QdrantStandIn> {
  const schema = loadQdrantSchema();
  const violations: string[] = [];
  const requests: Record<string, number> = {};
  const collections: QdrantStandIn['collections'] = new Map();
  const aliases = new Map<string, string>();
  const resolve = (name: string) => collections.get(aliases.get(name) ?? name);
  const failures: number[] = [];
  let opId = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const started = process.hrtime.bigint();
      const url = new URL(req.url ?? '/', 'http://x');
      const method = req.method ?? 'GET';
      const op = schema.find(method, url.pathname);
      const key = `${method} ${op ? op.id : url.pathname}`;
      requests[key] = (requests[key] ?? 0) + 1;
      const reply = (status: number, result: unknown, headers: Record<string, string> = {}) => {
        const time = Number(process.hrtime.bigint() - started) / 1e9;
        const body = status < 300 ? { time, status: 'ok', result } : { time, status: { error: String(result) }, result: null };
        const validate = op?.responses[String(status)] ?? (status >= 400 ? op?.responses['4XX'] ?? op?.responses.default : undefined);
        if (op && validate && !validate(body)) violations.push(`response of ${key} (${status}) violates the schema: ${errorsOf(validate)}`);
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      if (!op) {
        violations.push(`route not in Qdrant's OpenAPI schema: ${method} ${url.pathname}`);
        return reply(404, `no route ${method} ${url.pathname}`);
      }
      let body: unknown = undefined;
      if (chunks.length > 0) {
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          violations.push(`${key}: body is not JSON`);
          return reply(400, 'body is not JSON');
        }
      }
      if (op.request && !op.request(body ?? {})) {
        const why = errorsOf(op.request);
        violations.push(`request ${key} violates the schema: ${why}`);
        return reply(400, `Format error in JSON body: ${why}`);
      }
      const fail = failures.shift();
      if (fail) return reply(fail, fail === 429 ? 'Too many requests' : 'Service unavailable', fail === 429 ? { 'retry-after': '1' } : {});
      try {
        handle(method, url, body as Record<string, unknown>, reply);
      } catch (err) {
        reply(500, (err as Error).message);
      }
    });
  });

  const handle = (method: string, url: URL, body: Record<string, unknown>, reply: (s: number, r: unknown) => void) => {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent); // collections, name, ...
    const listOf = (entries: Array<[string, string]>) => ({ aliases: entries.map(([alias_name, collection_name]) => ({ alias_name, collection_name })) });
    if (parts[0] === 'aliases' && method === 'GET') return reply(200, listOf([...aliases]));
    if (parts[0] === 'collections' && parts[1] === 'aliases' && parts.length === 2 && method === 'POST') {
      // Qdrant applies the actions of one request atomically: check them all, then apply.
      const next = new Map(aliases);
      for (const a of (body as { actions: Array<Record<string, Record<string, string>>> }).actions) {
        if (a.create_alias) {
          const { alias_name, collection_name } = a.create_alias as { alias_name: string; collection_name: string };
          if (!collections.has(collection_name)) return reply(404, `Not found: Collection \`${collection_name}\` doesn't exist!`);
          if (collections.has(alias_name)) return reply(400, `Wrong input: Collection \`${alias_name}\` already exists!`);
          next.set(alias_name, collection_name);
        } else if (a.delete_alias) {
          next.delete(String(a.delete_alias.alias_name));
        } else if (a.rename_alias) {
          const { old_alias_name, new_alias_name } = a.rename_alias as { old_alias_name: string; new_alias_name: string };
          const target = next.get(old_alias_name);
          if (target === undefined) return reply(404, `Not found: Alias \`${old_alias_name}\` doesn't exist!`);
          next.delete(old_alias_name);
          next.set(new_alias_name, target);
        }
      }
      aliases.clear();
      for (const [k, v] of next) aliases.set(k, v);
      return reply(200, true);
    }
    const name = parts[1]!;
    const col = resolve(name);
    if (parts[2] === 'aliases' && parts.length === 3 && method === 'GET') {
      if (!col) return reply(404, `Not found: Collection \`${name}\` doesn't exist!`);
      return reply(200, listOf([...aliases].filter(([, c]) => c === name)));
    }
    const rest = parts.slice(2).join('/');
    const update = () => ({ operation_id: opId++, status: 'completed' });
    if (rest === '') {
      if (method === 'GET') {
        if (!col) return reply(404, `Not found: Collection \`${name}\` doesn't exist!`);
        return reply(200, {
          status: 'green',
          optimizer_status: 'ok',
          vectors_count: col.points.size,
          indexed_vectors_count: 0,
          points_count: col.points.size,
          segments_count: 1,
          config: {
            params: { vectors: { size: col.size, distance: col.distance }, shard_number: 1, replication_factor: 1, write_consistency_factor: 1, on_disk_payload: true },
            hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false },
            optimizer_config: { deleted_threshold: 0.2, vacuum_min_vector_number: 1000, default_segment_number: 0, max_segment_size: null, memmap_threshold: null, indexing_threshold: 20000, flush_interval_sec: 5, max_optimization_threads: 1 },
            wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
          },
          payload_schema: Object.fromEntries(Object.entries(col.indexes).map(([k, t]) => [k, { data_type: t, points: col.points.size }])),
        });
      }
      if (method === 'PUT') {
        if (col || aliases.has(name)) return reply(400, `Wrong input: Collection \`${name}\` already exists!`);
        const v = (body as { vectors: { size: number; distance: string } }).vectors;
        collections.set(name, { size: v.size, distance: v.distance, points: new Map(), indexes: {} });
        return reply(200, true);
      }
      if (method === 'DELETE') {
        // Deleting a collection deletes its aliases; an alias name deletes nothing.
        const existed = collections.delete(name);
        for (const [a, c] of [...aliases]) if (c === name) aliases.delete(a);
        return reply(200, existed);
      }
    }
    if (!col) return reply(404, `Not found: Collection \`${name}\` doesn't exist!`);
    if (rest === 'index' && method === 'PUT') {
      const fs = body.field_schema as string | { type?: string } | undefined;
      col.indexes[String(body.field_name)] = typeof fs === 'object' && fs !== null ? String(fs.type) : String(fs ?? 'keyword');
      return reply(200, update());
    }
    if (rest === 'points' && method === 'PUT') {
      for (const p of (body as { points: Array<{ id: string | number; vector: number[]; payload?: Record<string, unknown> }> }).points) {
        if (!Array.isArray(p.vector) || p.vector.length !== col.size) {
          return reply(400, `Wrong input: Vector dimension error: expected dim: ${col.size}, got ${Array.isArray(p.vector) ? p.vector.length : '?'}`);
        }
        col.points.set(String(p.id), { id: p.id, vector: p.vector, payload: p.payload ?? {} });
      }
      return reply(200, update());
    }
    if (rest === 'points/delete' && method === 'POST') {
      const b = body as { points?: Array<string | number>; filter?: Filter };
      if (b.points) for (const id of b.points) col.points.delete(String(id));
      else for (const [id, p] of col.points) if (matches(p, b.filter)) col.points.delete(id);
      return reply(200, update());
    }
    if (rest === 'points/count' && method === 'POST') {
      const f = (body as { filter?: Filter } | undefined)?.filter;
      return reply(200, { count: [...col.points.values()].filter((p) => matches(p, f)).length });
    }
    if (rest === 'points/scroll' && method === 'POST') {
      const b = (body ?? {}) as { filter?: Filter; limit?: number; offset?: string | number; with_payload?: unknown; with_vector?: unknown };
      const all = [...col.points.values()].filter((p) => matches(p, b.filter)).sort((x, y) => (String(x.id) < String(y.id) ? -1 : 1));
      const start = b.offset === undefined || b.offset === null ? 0 : all.findIndex((p) => String(p.id) === String(b.offset));
      const limit = b.limit ?? 10;
      const page = all.slice(Math.max(0, start), Math.max(0, start) + limit);
      const next = all[Math.max(0, start) + limit];
      return reply(200, {
        points: page.map((p) => ({ id: p.id, payload: b.with_payload === false ? null : p.payload, vector: b.with_vector ? p.vector : null })),
        next_page_offset: next ? next.id : null,
      });
    }
    if ((rest === 'points/query' || rest === 'points/search') && method === 'POST') {
      const b = body as { query?: unknown; vector?: unknown; filter?: Filter | null; limit?: number | null; offset?: number | null; score_threshold?: number | null; with_payload?: unknown; with_vector?: unknown };
      const raw = rest === 'points/search' ? b.vector : b.query;
      const vector = Array.isArray(raw) ? raw : (raw as { nearest?: unknown } | undefined)?.nearest;
      if (!Array.isArray(vector) || !vector.every((x) => typeof x === 'number')) {
        return reply(400, 'stand-in: only a plain dense vector query is implemented');
      }
      if (vector.length !== col.size) return reply(400, `Wrong input: Vector dimension error: expected dim: ${col.size}, got ${vector.length}`);
      const found = nearest(col.points.values(), vector as number[], b.filter, b.limit ?? 10, b.offset ?? 0, b.score_threshold);
      const points = found.map(({ point, score }) => ({
        id: point.id,
        version: 0,
        score,
        payload: b.with_payload ? point.payload : null,
        vector: b.with_vector ? point.vector : null,
      }));
      return reply(200, rest === 'points/query' ? { points } : points);
    }
    return reply(404, `stand-in does not implement ${method} ${url.pathname}`);
  };

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    schemaVersion: schema.version,
    violations,
    requests,
    collections,
    aliases,
    collection: resolve,
    failNext: (n, status) => {
      for (let i = 0; i < n; i++) failures.push(status);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
