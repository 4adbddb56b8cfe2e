import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Validators for Qdrant's published OpenAPI document, for the Qdrant version that
 * @qdrant/js-client-rest 1.18.0 targets: Qdrant 1.18. The copy is the one PyPI's
 * `qdrant-rest-cli` 0.1.4 ships (installed by scripts/infra/install-qdrant-openapi.sh into
 * .cache/qdrant-openapi/1.18/openapi.json, checked by sha256). Its component schemas and paths
 * are exactly those of the client's generated types, and it equals Qdrant's own
 * docs/redoc/v1.18.x/openapi.json but for info.version ("master") and one `minimum`. The schema
 * is loaded from that file, never hand-written.
 */
export const QDRANT_SCHEMA_VERSION = '1.18';
const SCHEMA_SHA256 = '82f236e827def4fd3b766cd73a7e2dd545953a5dfdef7c502893cffde79c7e40';

/** QDRANT_OPENAPI_JSON, else .cache/qdrant-openapi/1.18/openapi.json under the package root. */
export function qdrantSchemaFile(): string {
  if (process.env.QDRANT_OPENAPI_JSON) return process.env.QDRANT_OPENAPI_JSON;
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, '.cache/qdrant-openapi/1.18/openapi.json');
    if (existsSync(candidate)) return candidate;
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'scripts/infra'))) return candidate;
    dir = path.dirname(dir);
  }
  return path.resolve('.cache/qdrant-openapi/1.18/openapi.json');
}

interface Operation {
  template: RegExp;
  method: string;
  request?: ValidateFunction;
  responses: Record<string, ValidateFunction>;
  id: string;
}

export interface QdrantSchema {
  version: string;
  find(method: string, path: string): Operation | undefined;
}

export function loadQdrantSchema(): QdrantSchema {
  const file = qdrantSchemaFile();
  if (!existsSync(file)) {
    throw new Error(`Qdrant's OpenAPI schema is missing at ${file}: run bash scripts/infra/install-qdrant-openapi.sh`);
  }
  const bytes = readFileSync(file);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== SCHEMA_SHA256) throw new Error(`${file} is not the pinned Qdrant ${QDRANT_SCHEMA_VERSION} schema (sha256 ${sha})`);
  const doc = JSON.parse(bytes.toString('utf8')) as {
    info: { version: string };
    components: { schemas: Record<string, unknown> };
    paths: Record<string, Record<string, { operationId: string; requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  };
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  for (const f of ['partial-date-time', 'uint64', 'uint32', 'uint', 'uint8', 'int64', 'int32', 'double', 'float']) ajv.addFormat(f, { validate: () => true });
  ajv.addSchema({ $id: 'qdrant', components: openApiNullable(doc.components) }, 'qdrant');
  // Local refs inside operations point at #/components/...; rewrite them to the shared schema.
  const rebase = (schema: unknown): unknown =>
    openApiNullable(JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"qdrant#/components/')));
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    const template = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    for (const [method, op] of Object.entries(methods)) {
      const body = op.requestBody?.content['application/json']?.schema;
      const responses: Record<string, ValidateFunction> = {};
      for (const [code, r] of Object.entries(op.responses)) {
        const s = r.content?.['application/json']?.schema;
        if (s) responses[code] = ajv.compile(rebase(s) as object);
      }
      ops.push({ template, method: method.toUpperCase(), request: body ? ajv.compile(rebase(body) as object) : undefined, responses, id: op.operationId });
    }
  }
  return {
    version: QDRANT_SCHEMA_VERSION,
    find: (method, path) => ops.find((o) => o.method === method && o.template.test(path)),
  };
}

export function errorsOf(v: ValidateFunction): string {
  return (v.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
}

/**
 * OpenAPI 3.0 writes "or null" as `nullable: true`, sometimes on a schema with no `type` (e.g.
 * `anyOf: [{$ref}, {nullable: true}]`), which JSON Schema validators reject. Rewrite exactly
 * those into JSON Schema: `{nullable: true}` alone becomes `{type: "null"}`, and a typeless
 * nullable schema becomes `anyOf: [itself, {type: "null"}]`. Typed ones ajv understands as is.
 */
export function openApiNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(openApiNullable);
  if (node === null || typeof node !== 'object') return node;
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) o[k] = openApiNullable(v);
  if (o.nullable === true && o.type === undefined) {
    const { nullable: _n, description: _d, default: _def, ...rest } = o;
    return Object.keys(rest).length === 0 ? { type: 'null' } : { anyOf: [rest, { type: 'null' }] };
  }
  return o;
}
