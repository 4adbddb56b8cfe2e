import { readFileSync } from 'node:fs';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Validators for Qdrant's published OpenAPI document. The copy used is the openapi.json that the
 * npm package `qdrant-client@0.0.1` ships (a snapshot of Qdrant's `master` spec from the 1.x line,
 * not the newest one): the schema is loaded from node_modules, never hand-written.
 */
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
  const file = require.resolve('qdrant-client/openapi.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as {
    info: { version: string };
    components: { schemas: Record<string, unknown> };
    paths: Record<string, Record<string, { operationId: string; requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  };
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  for (const f of ['uint64', 'uint32', 'uint', 'uint8', 'int64', 'int32', 'double', 'float']) ajv.addFormat(f, { type: 'number', validate: () => true });
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
    version: doc.info.version,
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
