import { existsSync, statSync } from 'node:fs';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { Command, Option } from 'commander';
import { ConfigError } from '../errors';
import { DirectorySource } from '../sources/directory';
import { formatSourceAddress, parseSourceAddress } from '../sources/address';
import { openSource } from '../sources';
import { validateCollectionName } from '../naming';
import { ingestCollection, progressQuery } from '../workflows';
import { BATCH_PIPELINES, DEFAULT_BATCHING, DEFAULT_CHUNKING, DEFAULT_MAX_IN_FLIGHT, DEFAULT_PAGE_SIZE, DEFAULT_PIPELINE, ingestWorkflowId, SINK_KINDS, TASK_QUEUE, VECTOR_TYPES, type DirectorySourceSpec, type SourceSpec } from '../contracts/ingest';
import { addGlobalOptions, configFrom, EXIT, loggerFor, parseIntOption, uiLink, type GlobalOpts } from './common';
import { formatSummary } from './progress';
import { runDryRun } from './dry-run';
import { ProgressView } from './progress-bar';
import { innermost, failureType } from './run-failure';
import { effectiveChunking, ingestInput, type RunShapeOpts } from './run-input';
import { withRunStack } from './run-stack';
import { addPathRuleOptions, PATH_RULES_HELP, withPathRules, type PathRuleOpts } from './path-rule-options';

interface IngestOpts extends GlobalOpts, PathRuleOpts, RunShapeOpts {
  collection: string;
  wait: boolean;
  json?: boolean;
  dryRun?: boolean;
}

export function ingestCommand(): Command {
  const cmd = new Command('ingest')
    .description('Ingest documents (markdown, HTML, text, PDF, DOCX, source code) from a directory, git repository, web site, S3 bucket or Postgres table into a collection, then show progress until done')
    .argument('<source>', 'a directory (read by the worker; resolved to an absolute path), git+<url>#<ref>, http(s)://host/sitemap.xml or http(s)://host/docs/, s3://bucket/prefix, postgres://ENV_VAR/schema.table?id=..&text=..')
    .requiredOption('-c, --collection <name>', 'collection (table) name: lowercase letters, digits, _')
    .option('--no-wait', 'start the run and exit; watch it with `vector-ingest status`')
    .option('--full', 'rebuild: re-chunk and write every document into a new generation beside the live one, swapped in when done (needed for a new model, sink or vector type; unchanged texts of the same model come from the cache)')
    .option('--chunk-tokens <n>', `tokens per chunk (default ${DEFAULT_CHUNKING.chunkTokens})`, parseIntOption('--chunk-tokens'))
    .option('--overlap-tokens <n>', `tokens shared by consecutive chunks (default ${DEFAULT_CHUNKING.overlapTokens})`, parseIntOption('--overlap-tokens'))
    .option('--batch-size <n>', `most chunks per embedding request (default ${DEFAULT_BATCHING.maxChunks})`, parseIntOption('--batch-size'))
    .option('--batch-tokens <n>', `most tokens per embedding request (default ${DEFAULT_BATCHING.maxTokens})`, parseIntOption('--batch-tokens'))
    .option('--page-size <n>', `documents planned per page (default ${DEFAULT_PAGE_SIZE})`, parseIntOption('--page-size'))
    .addOption(new Option('--sink <sink>', 'vector store of a new collection (env VECTOR_INGEST_SINK; default pgvector)').choices(SINK_KINDS))
    .addOption(new Option('--vector-type <type>', 'pgvector column type of a new collection or generation: vector (float4) or halfvec (float2, half the size)').choices(VECTOR_TYPES))
    .option('--keep-retired <n>', 'after the run, keep only the newest n retired generations (older ones are dropped); default: keep all until `generations drop`', parseIntOption('--keep-retired'))
    .option('--window <n>', `embed→upsert batches in flight at once (default ${DEFAULT_MAX_IN_FLIGHT})`, parseIntOption('--window'))
    .addOption(new Option('--pipeline <pipeline>', `split: embed and write each batch in two activities; fused: in one (half the Temporal work per batch; default ${DEFAULT_PIPELINE})`).choices(BATCH_PIPELINES))
    .option('--dry-run', 'list the documents, chunks and tokens a run would embed (after the embedding cache) and its estimated cost, without embedding or writing anything')
    .addOption(new Option('--json', 'print the final result as JSON on stdout'));
  addPathRuleOptions(cmd);
  addGlobalOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Without TEMPORAL_ADDRESS this starts a local Temporal dev server (Web UI included), embedded
PGlite+pgvector (without DATABASE_URL) and a worker in this process, all persisted under the data
dir, unless \`vector-ingest dev\` is already running on that data dir, in which case it uses that.

Sources (one address scheme for every command; the worker reads them, with credentials from
its own environment only):
  ./docs                                   a directory
  git+https://github.com/org/repo.git#main a git repository at a branch, tag or commit
  git+file:///srv/repo#v1.2                a repository on the worker's disk
  https://example.com/sitemap.xml          a web site from its sitemap (or https://host/docs/ crawled)
  s3://bucket/prefix                       an S3-compatible bucket (AWS_* environment on the worker)
  postgres://DOCS_DB/public.articles?id=id&text=title,body&updated_at=updated_at
                                           a table; DOCS_DB is the worker's variable holding the URL
${PATH_RULES_HELP}

--dry-run runs here, without Temporal: it reads the source from this machine, chunks it with the
configured embedder's tokenizer, and looks the chunks up in the state store's embedding cache
(DATABASE_URL, or the embedded PGlite). Prices: VECTOR_INGEST_PRICE_PER_MTOK, VECTOR_INGEST_PRICES.

Exit codes: 0 done, 1 the run failed, 2 bad arguments or configuration, 3 a run of this collection
is already in progress, 5 done but some documents or chunks failed (see the run's warnings).

The same run from the Temporal CLI (with a worker running):
  temporal workflow start --type ingestCollection --task-queue ${TASK_QUEUE} \\
    --workflow-id ingest-docs --fairness-key docs --input '{"collection":"docs","source":{"kind":"directory","path":"/data/docs"}}'`,
  );
  cmd.action(async (address: string, opts: IngestOpts) => {
    process.exitCode = await runIngest(address, opts);
  });
  return cmd;
}

/**
 * The source of `ingest`, `watch` and friends: parsed, with the command line's include/exclude
 * globs, and a local directory checked when the worker is local.
 */
export function sourceFromArgument(address: string, embedded: boolean, rules: PathRuleOpts = {}): SourceSpec {
  const source = withPathRules(parseSourceAddress(address), rules);
  openSource(source); // the spec's shape (no I/O): a bad one is refused here, before a run starts
  if (source.kind === 'directory' && (embedded || existsSync(source.path))) {
    if (!existsSync(source.path) || !statSync(source.path).isDirectory()) throw new ConfigError(`${source.path} is not a directory`);
  }
  return source;
}

async function runIngest(address: string, opts: IngestOpts): Promise<number> {
  const collection = validateCollectionName(opts.collection);
  const config = configFrom(opts, opts.sink ? { sink: opts.sink } : {});
  const embedded = !config.temporalAddress;
  const source = sourceFromArgument(address, embedded, opts);
  const where = formatSourceAddress(source);
  const log = loggerFor(config);
  const input = ingestInput(collection, source, opts);
  if (opts.dryRun) return runDryRun(config, log, input, opts.json === true);
  const chunking = effectiveChunking(config.embedding, input);
  if (chunking.lowered && opts.chunkTokens !== undefined) process.stderr.write(`--chunk-tokens: chunks of ${chunking.text}\n`);

  // A local worker only when nobody else will run the work: embedded services and --wait.
  return withRunStack(config, log, { needDatabase: embedded && opts.wait }, async ({ services, client, needsLocalWorker, startLocalWorker }) => {
    if (needsLocalWorker) {
      if (!opts.wait) {
        process.stderr.write('--no-wait needs a worker that outlives this command: start `vector-ingest dev` or set TEMPORAL_ADDRESS\n');
        return EXIT.usage;
      }
      await startLocalWorker();
    }
    const workflowId = ingestWorkflowId(collection);
    let handle;
    try {
      handle = await client.workflow.start(ingestCollection, {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [input],
        priority: { fairnessKey: collection }, // its workflow tasks share the workers fairly too
        staticSummary: `Ingest ${collection} from ${where}${opts.full ? ' (full rebuild)' : ''}`,
        staticDetails: [
          `**Collection** \`${collection}\` · **source** ${source.kind} \`${where}\``,
          `- chunking: ${chunking.text}`,
          `- batches: ${input.batching?.maxChunks ?? DEFAULT_BATCHING.maxChunks} chunks / ${input.batching?.maxTokens ?? DEFAULT_BATCHING.maxTokens} tokens, window ${input.maxInFlightBatches ?? DEFAULT_MAX_IN_FLIGHT}`,
          `- embedder: ${config.embedding.model} (${config.embedding.dimensions} dimensions${config.embedding.provider === 'offline' ? ', offline, NOT semantic' : ''})`,
        ].join('\n'),
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        process.stderr.write(`an ingest of collection ${collection} is already running (workflow ${workflowId}); watch it with: vector-ingest status ${collection}\n`);
        return EXIT.conflict;
      }
      throw err;
    }
    const link = uiLink(services.uiUrl, services.namespace, workflowId, handle.firstExecutionRunId);
    process.stderr.write(`started ${workflowId} (run ${handle.firstExecutionRunId})\n`);
    if (link) process.stderr.write(`Web UI: ${link}\n`);
    if (!opts.wait) {
      if (opts.json) process.stdout.write(`${JSON.stringify({ workflowId, runId: handle.firstExecutionRunId, ui: link })}\n`);
      return EXIT.ok;
    }

    const started = Date.now();
    const view = new ProgressView(source.kind === 'directory' ? await countDocuments(source) : undefined);
    const latest = client.workflow.getHandle(workflowId);
    // One progress query at a time, and none left in flight when the client closes: the client
    // retries a call the closing channel cut off on a timer, and that retry on a closed channel
    // throws where nothing can catch it (seen: the process died after a finished run).
    let querying: Promise<void> | undefined;
    const timer = setInterval(() => {
      querying ??= latest
        .query(progressQuery)
        .then(
          (p) => view.update(p),
          () => undefined, // between continue-as-new runs a query can miss; the next one lands
        )
        .finally(() => (querying = undefined));
    }, 500);
    try {
      const result = await handle.result();
      clearInterval(timer);
      view.stop();
      const secs = (Date.now() - started) / 1000;
      for (const line of formatSummary(result.counters)) process.stderr.write(`${line}\n`);
      process.stderr.write(`chunking:  ${chunking.text}\n`);
      process.stderr.write(`done in ${secs.toFixed(1)} s (${(result.counters.chunksUpserted / secs).toFixed(1)} chunks/s)\n`);
      if (link) process.stderr.write(`Web UI: ${link}\n`);
      if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      return result.counters.documentsFailed > 0 || result.counters.chunksFailed > 0 ? EXIT.partial : EXIT.ok;
    } catch (err) {
      view.stop();
      if (err instanceof WorkflowFailedError) {
        const busy = failureType(err) === 'CollectionBusy';
        process.stderr.write(`ingest of ${collection} ${busy ? 'refused' : 'failed'}: ${innermost(err).message}\n`);
        if (link) process.stderr.write(`Web UI: ${link}\n`);
        return busy ? EXIT.conflict : failureType(err) === 'ConfigError' ? EXIT.usage : EXIT.failed;
      }
      throw err;
    } finally {
      clearInterval(timer);
      await querying;
    }
  });
}

/** Documents in the directory, if this machine can see it (for the bar's total and ETA). */
async function countDocuments(spec: DirectorySourceSpec): Promise<number | undefined> {
  try {
    const src = new DirectorySource(spec.path, spec);
    let n = 0;
    let cursor: string | null = null;
    for (let i = 0; i < 1000; i++) {
      const page = await src.listPage(cursor, 10_000);
      n += page.items.length;
      if (page.nextCursor === null) return n;
      cursor = page.nextCursor;
    }
    return undefined;
  } catch {
    return undefined; // remote worker paths: no total, the bar counts up
  }
}
