import { WorkflowNotFoundError } from '@temporalio/client';
import { Command } from 'commander';
import { validateCollectionName } from '../naming';
import { startServices } from '../stack';
import { progressQuery } from '../workflows';
import { findIngestRun } from './find-run';
import { addGlobalOptions, configFrom, connectClient, EXIT, loggerFor, uiLink, type GlobalOpts } from './common';
import { formatProgress, formatSummary } from './progress';
import { failureRecord, formatFailureRecord } from './replay-record';

interface StatusOpts extends GlobalOpts {
  json?: boolean;
}

export function statusCommand(): Command {
  const cmd = new Command('status')
    .description('Show the latest ingest run of a collection (started under any workflow id): state, progress counters, Web UI link')
    .argument('<collection>', 'collection name')
    .option('--json', 'machine-readable output on stdout');
  addGlobalOptions(cmd);
  cmd.addHelpText('after', '\nExit codes: 0 found, 4 no run of that collection.');
  cmd.action(async (name: string, opts: StatusOpts) => {
    const collection = validateCollectionName(name);
    const config = configFrom(opts);
    const log = loggerFor(config);
    const services = await startServices(config, log, { needDatabase: false, headless: true });
    const { client, close } = await connectClient(services);
    try {
      const found = await findIngestRun(client, collection, services.databaseUrl);
      const workflowId = found.workflowId;
      const handle = client.workflow.getHandle(workflowId);
      let desc;
      try {
        desc = await handle.describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          process.stderr.write(`no ingest run of collection ${collection} found (workflow id ${workflowId})\n`);
          process.exitCode = EXIT.notFound;
          return;
        }
        throw err;
      }
      const out: Record<string, unknown> = {
        collection,
        workflowId,
        foundBy: found.via,
        runId: desc.runId,
        status: desc.status.name,
        startTime: desc.startTime.toISOString(),
        closeTime: desc.closeTime?.toISOString() ?? null,
        ui: uiLink(services.uiUrl, services.namespace, workflowId, desc.runId) ?? null,
      };
      let lines: string[] = [];
      if (desc.status.name === 'RUNNING') {
        const p = await handle.query(progressQuery);
        out.progress = p;
        lines = [formatProgress(p, Date.now() - Date.parse(p.startedAt))];
      } else if (desc.status.name === 'COMPLETED') {
        const r = (await handle.result()) as { counters: Parameters<typeof formatSummary>[0] };
        out.result = r;
        lines = formatSummary(r.counters);
      }
      const record = await failureRecord(client, collection);
      if (record) {
        out.failures = record;
        lines.push(...formatFailureRecord(record));
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } else {
        process.stdout.write(`${collection}: ${desc.status.name} (workflow ${workflowId}, run ${desc.runId})\n`);
        for (const l of lines) process.stdout.write(`  ${l}\n`);
        if (out.ui) process.stdout.write(`  Web UI: ${out.ui}\n`);
      }
    } finally {
      await close();
      await services.stop();
    }
  });
  return cmd;
}
