import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DevServer } from '../../src/embedded/temporal';
import { startEmbeddingServer, type EmbeddingServer } from '../../src/testing/embedding-server';
import { ingestCollection } from '../../src/workflows';
import { TASK_QUEUE, type IngestInput, type IngestResult, type SourceSpec } from '../../src/contracts/ingest';
import { cliAgainst, type CliResult } from './cli-run';
import { startTemporal, startTestWorker, teardown, tempDir, testClient, testConfig, type TestWorker } from './env';
import { documentsRead } from './reads';

const run = promisify(execFile);

export interface RunOutcome {
  result: IngestResult;
  /** Documents read from the source by the worker during the run. */
  reads: number;
  /** Texts the embedding provider was asked to embed during the run. */
  embedded: number;
  ms: number;
}

/**
 * A real Temporal dev server, the project's embeddings server and an in-process worker with its
 * own data dir (and `env` as its environment for sources), for source tests that start runs
 * three ways: the client, the compiled CLI against this server, and the `temporal` CLI.
 */
export class SourceRig {
  server!: DevServer;
  emb!: EmbeddingServer;
  worker!: TestWorker;
  tc!: Awaited<ReturnType<typeof testClient>>;
  readonly dataDir = tempDir('vi-src-data-');
  private runs = 0;

  constructor(
    private readonly kind: string,
    private readonly model: string,
    private readonly workerEnv: Record<string, string> = {},
  ) {}

  async start(): Promise<this> {
    [this.server, this.emb] = await Promise.all([startTemporal(), startEmbeddingServer({ dimensions: 16 })]);
    const env = { OPENAI_BASE_URL: this.emb.url, EMBEDDING_MODEL: this.model, EMBEDDING_DIMENSIONS: '16' };
    const config = testConfig({ dataDir: this.dataDir }, env);
    // The sources read the worker's environment (process.env): the variables they name go there.
    Object.assign(process.env, this.workerEnv);
    this.worker = await startTestWorker(this.server, config);
    this.tc = await testClient(this.server);
    return this;
  }

  async stop(collections: string[]): Promise<void> {
    for (const c of collections.slice(1)) await teardown({ collection: c });
    await teardown({ tc: this.tc, worker: this.worker, server: this.server, emb: this.emb, collection: collections[0] });
  }

  private async measure(fn: () => Promise<IngestResult>): Promise<RunOutcome> {
    const reads0 = await documentsRead(this.kind);
    this.emb.reset();
    const t0 = Date.now();
    const result = await fn();
    const ms = Date.now() - t0;
    return { result, reads: (await documentsRead(this.kind)) - reads0, embedded: this.emb.stats.inputs, ms };
  }

  /** A run started with the Temporal client; resolves with its result (rejects if it fails). */
  ingest(input: IngestInput): Promise<RunOutcome> {
    return this.measure(async () => {
      const h = await this.tc.client.workflow.start(ingestCollection, { taskQueue: TASK_QUEUE, workflowId: `${input.collection}-${++this.runs}`, args: [input] });
      return h.result();
    });
  }

  /** `vector-ingest ingest <address>` (the compiled CLI) against this server; the worker here runs it. */
  cli(args: string[]): Promise<CliResult> {
    return cliAgainst(this.server, args, { unset: ['DATABASE_URL'], timeoutMs: 50_000 });
  }

  /** `vector-ingest ingest <address> --json`, measured; the result is the CLI's JSON line. */
  viaCli(address: string, collection: string, extra: string[] = []): Promise<RunOutcome & { code: number | null; stderr: string }> {
    let out: CliResult | undefined;
    return this.measure(async () => {
      out = await this.cli(['ingest', address, '--collection', collection, '--json', ...extra]);
      if (out.code !== 0) return { counters: {} } as IngestResult;
      return JSON.parse(out.stdout.trim().split('\n').pop()!) as IngestResult;
    }).then((o) => ({ ...o, code: out!.code, stderr: out!.stderr }));
  }

  /** `temporal workflow start --type ingestCollection … --input <json>`, then its result. */
  viaTemporalCli(collection: string, source: SourceSpec, extra: Partial<IngestInput> = {}): Promise<RunOutcome> {
    return this.measure(async () => {
      const workflowId = `${collection}-tcli-${++this.runs}`;
      await run(process.env.TEMPORAL_CLI_PATH ?? 'temporal', [
        'workflow', 'start',
        '--address', this.server.address,
        '--namespace', this.server.namespace,
        '--type', 'ingestCollection',
        '--task-queue', TASK_QUEUE,
        '--workflow-id', workflowId,
        '--input', JSON.stringify({ collection, source, ...extra }),
      ]);
      return (await this.tc.client.workflow.getHandle(workflowId).result()) as IngestResult;
    });
  }
}

/** Runs git in `cwd` (the tests build their repositories with the real git CLI). */
export async function gitIn(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, {
    cwd,
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' },
  });
  return stdout.trim();
}
