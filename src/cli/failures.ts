import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { Command, Option } from 'commander';
import { validateCollectionName } from '../naming';
import { startServices } from '../stack';
import { failuresQuery, replayUpdate } from '../workflows';
import { describeReplays, replayWorkflowId, type ReplayRequest } from '../contracts/replay';
import { addGlobalOptions, configFrom, connectClient, EXIT, loggerFor, parseIntOption, type GlobalOpts } from './common';

/** Runs `fn` with a client for the collection's replay workflow; maps "no such workflow". */
async function withReplay(name: string, opts: GlobalOpts, fn: (h: ReturnType<import('@temporalio/client').Client['workflow']['getHandle']>) => Promise<number>): Promise<number> {
  const collection = validateCollectionName(name);
  const config = configFrom(opts);
  const services = await startServices(config, loggerFor(config), { needDatabase: false, headless: true });
  const { client, close } = await connectClient(services);
  try {
    return await fn(client.workflow.getHandle(replayWorkflowId(collection)));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      process.stderr.write(`collection ${collection} has no failures on record (no workflow ${replayWorkflowId(collection)})\n`);
      return EXIT.notFound;
    }
    throw err;
  } finally {
    await close();
    await services.stop();
  }
}

interface FailuresOpts extends GlobalOpts {
  type?: string;
  limit: number;
  offset: number;
  json?: boolean;
}

export function failuresCommand(): Command {
  const cmd = new Command('failures')
    .description("List a collection's failed items (documents or chunks) with their reason and attempts")
    .argument('<collection>', 'collection name')
    .option('--type <errorType>', 'only this error type, e.g. InvalidUtf8')
    .option('--limit <n>', 'items per page', parseIntOption('--limit'), 50)
    .option('--offset <n>', 'skip this many items', parseIntOption('--offset'), 0)
    .option('--json', 'machine-readable output on stdout');
  addGlobalOptions(cmd);
  cmd.addHelpText('after', `
The same from the Temporal CLI:
  temporal workflow query --workflow-id replay-<collection> --type failures --input '{"limit":50}'

Exit codes: 0 listed (even if empty), 4 the collection has no failure record.`);
  cmd.action(async (name: string, opts: FailuresOpts) => {
    process.exitCode = await withReplay(name, opts, async (h) => {
      const page = await h.query(failuresQuery, { limit: opts.limit, offset: opts.offset, type: opts.type });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(page)}\n`);
        return EXIT.ok;
      }
      const types = Object.entries(page.byType).map(([t, n]) => `${t} ${n}`).join(', ');
      process.stdout.write(`${page.collection}: ${page.total} failed item(s)${types ? ` (${types})` : ''}\n`);
      for (const i of page.items) {
        const chunks = i.chunkRanges ? ` chunks ${i.chunkRanges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}` : '';
        process.stdout.write(`  ${i.documentId}${chunks}  [${i.type}, ${i.attempts} attempt(s), last ${i.lastSeen}]\n    ${i.message}\n`);
      }
      if (page.total > opts.offset + page.items.length) process.stdout.write(`  … ${page.total - opts.offset - page.items.length} more (--offset ${opts.offset + page.items.length})\n`);
      if (page.nextAutoRetryAt) process.stdout.write(`next automatic retry: ${page.nextAutoRetryAt}\n`);
      if (page.replays && page.replays.replays > 0) process.stdout.write(`${describeReplays(page.replays)}\n`);
      return EXIT.ok;
    });
  });
  return cmd;
}

interface ReplayOpts extends GlobalOpts {
  all?: boolean;
  id?: string[];
  type?: string[];
  json?: boolean;
}

export function replayCommand(): Command {
  const cmd = new Command('replay')
    .description('Retry failed items of a collection now: all of them, some ids, or some error types')
    .argument('<collection>', 'collection name')
    .option('--all', 'every failed item')
    .addOption(new Option('--id <documentId...>', 'these documents (repeatable)'))
    .addOption(new Option('--type <errorType...>', 'items with these error types (repeatable)'))
    .option('--json', 'machine-readable output on stdout');
  addGlobalOptions(cmd);
  cmd.addHelpText('after', `
The same from the Temporal CLI:
  temporal workflow update execute --workflow-id replay-<collection> --name replay --input '{"all":true}'
  temporal workflow update execute --workflow-id replay-<collection> --name replay --input '{"ids":["a.md"]}'

Exit codes: 0 every replayed item succeeded, 5 some still fail, 2 bad request, 4 no failure record.`);
  cmd.action(async (name: string, opts: ReplayOpts) => {
    const req: ReplayRequest = opts.all ? { all: true } : opts.id ? { ids: opts.id } : opts.type ? { types: opts.type } : {};
    process.exitCode = await withReplay(name, opts, async (h) => {
      let out;
      try {
        out = await h.executeUpdate(replayUpdate, { args: [req] });
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) {
          process.stderr.write(`replay refused: ${(err.cause as Error)?.message ?? err.message}\n`);
          return EXIT.usage;
        }
        throw err;
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(out)}\n`);
      else {
        process.stdout.write(`replayed ${out.requested}: ${out.succeeded.length} succeeded, ${out.stillFailing.length} still failing, ${out.vanished.length} gone from the source\n`);
        for (const id of out.stillFailing) process.stdout.write(`  still failing: ${id}\n`);
      }
      return out.stillFailing.length > 0 ? EXIT.partial : EXIT.ok;
    });
  });
  return cmd;
}
