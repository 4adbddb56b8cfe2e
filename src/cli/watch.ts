import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import type { FSWatcher } from 'chokidar';
import { Command } from 'commander';
import { validateCollectionName } from '../naming';
import { formatSourceAddress } from '../sources/address';
import { ingestCollection } from '../workflows';
import { DEFAULT_CHUNKING, ingestWorkflowId, TASK_QUEUE, type IngestInput, type SourceSpec } from '../contracts/ingest';
import { addGlobalOptions, configFrom, EXIT, loggerFor, parseIntOption, type GlobalOpts } from './common';
import { Coalescer } from './coalescer';
import { sourceFromArgument } from './ingest';
import { innermost } from './run-failure';
import { ingestInput, type RunShapeOpts } from './run-input';
import { withRunStack } from './run-stack';
import { formatSkipped } from './progress';
import { addPathRuleOptions, excludedFromWatch, PATH_RULES_HELP, type PathRuleOpts } from './path-rule-options';

interface WatchOpts extends GlobalOpts, PathRuleOpts, Pick<RunShapeOpts, 'chunkTokens' | 'overlapTokens'> {
  collection: string;
  debounceMs?: number;
  interval?: number;
}

const SKIPPED = /(^|[/\\])(\.git|node_modules|\.hg|\.svn|\.vector-ingest)([/\\]|$)/;

export function watchCommand(): Command {
  const cmd = new Command('watch')
    .description('Keep a collection following its source: a directory is watched for changes, other sources are polled; each change starts an incremental run')
    .argument('<source>', 'a directory, git+<url>#<ref>, http(s)://…, s3://bucket/prefix or postgres://ENV_VAR/schema.table?id=..&text=.. (as for ingest)')
    .requiredOption('-c, --collection <name>', 'collection (table) name')
    .option('--debounce-ms <n>', 'wait this long after the last file change before a run (directories; default 500)', parseIntOption('--debounce-ms'))
    .option('--interval <seconds>', 'poll other sources this often (default 60)', parseIntOption('--interval'))
    .option('--chunk-tokens <n>', `tokens per chunk (default ${DEFAULT_CHUNKING.chunkTokens})`, parseIntOption('--chunk-tokens'))
    .option('--overlap-tokens <n>', `tokens shared by consecutive chunks (default ${DEFAULT_CHUNKING.overlapTokens})`, parseIntOption('--overlap-tokens'));
  addPathRuleOptions(cmd);
  addGlobalOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Runs one incremental ingest at start, then one after each change (a directory, watched with
chokidar and debounced) or on every poll (git, web, s3, postgres: an unchanged source costs
its listing only, since fingerprints skip unchanged documents). Runs of a collection never
overlap: changes that arrive during a run are coalesced into one more run after it. Stops on
SIGINT/SIGTERM after the current run. Exit code 2 when the source is refused. Changes to files
an --exclude glob leaves out start no run.
${PATH_RULES_HELP}`,
  );
  cmd.action(async (address: string, opts: WatchOpts) => {
    process.exitCode = await runWatch(address, opts);
  });
  return cmd;
}

async function runWatch(address: string, opts: WatchOpts): Promise<number> {
  const collection = validateCollectionName(opts.collection);
  const config = configFrom(opts);
  const embedded = !config.temporalAddress;
  const source = sourceFromArgument(address, embedded, opts);
  const where = formatSourceAddress(source);
  const log = loggerFor(config);
  const input = ingestInput(collection, source, opts);
  return withRunStack(config, log, { needDatabase: embedded }, ({ client, needsLocalWorker, startLocalWorker }) =>
    watchLoop({ client, input, collection, where, source, opts, startWorker: needsLocalWorker ? startLocalWorker : undefined }),
  );
}

/** One incremental run at start and one per change (or poll), until SIGINT/SIGTERM or a configuration error. */
async function watchLoop(o: {
  client: Client;
  input: IngestInput;
  collection: string;
  where: string;
  source: SourceSpec;
  opts: WatchOpts;
  startWorker: (() => Promise<void>) | undefined;
}): Promise<number> {
  const { client, input, collection, where, source, opts } = o;
  let watcher: FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  let fatal: number | undefined;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const workflowId = ingestWorkflowId(collection);

  const runOnce = async (): Promise<void> => {
    const t0 = Date.now();
    try {
      const handle = await client.workflow.start(ingestCollection, {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [input],
        priority: { fairnessKey: collection },
        staticSummary: `Watch: re-index ${collection} from ${where}`,
      });
      const r = await handle.result();
      const c = r.counters;
      process.stderr.write(
        `${new Date().toISOString()} ${collection}: ${c.documentsChanged} changed, ${c.documentsDeleted} deleted, ${c.documentsUnchanged} unchanged, ${c.chunksUpserted} chunks written in ${((Date.now() - t0) / 1000).toFixed(1)} s${r.sourceVersion ? ` (at ${r.sourceVersion})` : ''}${formatSkipped(c) ? `; skipped: ${formatSkipped(c)}` : ''}\n`,
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        // Someone else's run (a schedule, the CLI): wait for it, then run again to see our change.
        await client.workflow.getHandle(workflowId).result().catch(() => undefined);
        runner.request();
        return;
      }
      if (err instanceof WorkflowFailedError) {
        const why = innermost(err);
        process.stderr.write(`${new Date().toISOString()} ${collection}: run failed: ${why.message}\n`);
        if ((why as { type?: string }).type === 'ConfigError') {
          fatal = EXIT.usage;
          stop();
        }
        return;
      }
      throw err;
    }
  };
  const runner = new Coalescer(() =>
    runOnce().catch((err) => {
      process.stderr.write(`${collection}: ${(err as Error).message}\n`);
    }),
  );

  try {
    await o.startWorker?.();
    const onSignal = () => stop();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (source.kind === 'directory') {
      const { watch } = await import('chokidar');
      let timer: NodeJS.Timeout | undefined;
      const debounce = opts.debounceMs ?? 500;
      const root = source.path;
      const excluded = excludedFromWatch(root, source.exclude ?? []);
      watcher = watch(root, { ignoreInitial: true, ignored: (p: string) => SKIPPED.test(p) || excluded(p) });
      watcher.on('all', () => {
        clearTimeout(timer);
        timer = setTimeout(() => runner.request(), debounce);
      });
      watcher.on('error', (err) => process.stderr.write(`watch error: ${(err as Error).message}\n`));
      await new Promise<void>((resolve) => watcher!.once('ready', () => resolve()));
      process.stderr.write(`watching ${source.path} for changes (debounce ${debounce} ms); Ctrl-C stops\n`);
    } else {
      const every = (opts.interval ?? 60) * 1000;
      poll = setInterval(() => runner.request(), Math.max(1000, every));
      process.stderr.write(`polling ${where} every ${every / 1000} s; Ctrl-C stops\n`);
    }
    runner.request(); // catch up with whatever changed while nobody watched
    await stopped;
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    return fatal ?? EXIT.ok;
  } finally {
    clearInterval(poll);
    await watcher?.close();
    await runner.stop();
  }
}

