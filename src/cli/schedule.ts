import { ScheduleNotFoundError, type Client, type ScheduleOverlapPolicy } from '@temporalio/client';
import { Command, Option } from 'commander';
import { ConfigError } from '../errors';
import { validateCollectionName } from '../naming';
import { startServices } from '../stack';
import { reindexCollection } from '../workflows';
import { reindexWorkflowId } from '../workflows/reindex';
import { TASK_QUEUE } from '../contracts/ingest';
import { addGlobalOptions, configFrom, connectClient, EXIT, loggerFor, parseIntOption, type GlobalOpts } from './common';

const OVERLAPS = ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'terminate_other', 'allow_all'];

/** Schedule id of a collection's re-index: one schedule per collection. */
export function scheduleId(collection: string): string {
  return `reindex-${collection}`;
}

function overlapOf(v: string | undefined): ScheduleOverlapPolicy {
  return (v ?? 'skip').toUpperCase() as ScheduleOverlapPolicy;
}

async function withClient(opts: GlobalOpts, fn: (client: Client) => Promise<number>): Promise<number> {
  const config = configFrom(opts);
  const services = await startServices(config, loggerFor(config), { needDatabase: false, headless: true });
  const { client, close } = await connectClient(services);
  try {
    return await fn(client);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      process.stderr.write(`no such schedule: ${err.message}\n`);
      return EXIT.notFound;
    }
    throw err;
  } finally {
    await close();
    await services.stop();
  }
}

function sub(name: string, description: string): Command {
  const c = new Command(name).description(description);
  addGlobalOptions(c);
  return c;
}

interface CreateOpts extends GlobalOpts {
  every?: string;
  cron?: string[];
  overlap?: string;
  full?: boolean;
  keepRetired?: number;
  note?: string;
  paused?: boolean;
}

export function scheduleCommand(): Command {
  const cmd = new Command('schedule').description('Re-index collections on a timer with Temporal Schedules (one schedule per collection)');
  cmd.addHelpText(
    'after',
    `
A schedule starts the workflow reindexCollection, which repeats the collection's last ingest
(same source and options) incrementally: unchanged documents cost nothing. Overlapping runs are
skipped by default. The same from the Temporal CLI:
  temporal schedule create --schedule-id reindex-docs --workflow-id reindex-docs \\
    --task-queue ${TASK_QUEUE} --type reindexCollection --input '{"collection":"docs"}' \\
    --interval 1h --overlap-policy Skip`,
  );

  cmd.addCommand(
    sub('create', 'Create the re-index schedule of a collection')
      .argument('<collection>', 'collection (must have been ingested once)')
      .option('--every <interval>', 'run every interval, e.g. 30m, 1h, 1d')
      .addOption(new Option('--cron <expression...>', 'cron expression(s), e.g. "0 3 * * *"'))
      .addOption(new Option('--overlap <policy>', 'what to do when the previous run is still going').choices(OVERLAPS).default('skip'))
      .option('--full', 'rebuild everything on each run instead of re-indexing incrementally')
      .option('--keep-retired <n>', 'after each run keep only the newest n retired generations (each --full run retires one)', parseIntOption('--keep-retired'))
      .option('--paused', 'create it paused')
      .option('--note <text>', 'a note shown with the schedule')
      .action(async (name: string, o: CreateOpts) => {
        const collection = validateCollectionName(name);
        if (!o.every === !o.cron) throw new ConfigError('give exactly one of --every <interval> or --cron <expression>');
        process.exitCode = await withClient(o, async (client) => {
          await client.schedule.create({
            scheduleId: scheduleId(collection),
            spec: o.every ? { intervals: [{ every: o.every as never }] } : { cronExpressions: o.cron! },
            action: {
              type: 'startWorkflow',
              workflowType: reindexCollection,
              workflowId: reindexWorkflowId(collection),
              taskQueue: TASK_QUEUE,
              args: [{ collection, ...(o.full ? { full: true } : {}), ...(o.keepRetired !== undefined && { keepRetired: o.keepRetired }) }],
              staticSummary: `Scheduled re-index of ${collection}`,
            },
            policies: { overlap: overlapOf(o.overlap) },
            state: { paused: o.paused === true, note: o.note },
          });
          if (o.full && o.keepRetired === undefined) {
            process.stderr.write(
              `note: every --full run builds a new generation and keeps the one it replaces; without --keep-retired they accumulate until \`vector-ingest generations drop ${collection} <n>\`\n`,
            );
          }
          process.stdout.write(`created schedule ${scheduleId(collection)} (${o.every ? `every ${o.every}` : `cron ${o.cron!.join(' | ')}`}, overlap ${o.overlap ?? 'skip'})\n`);
          return EXIT.ok;
        });
      }),
  );

  cmd.addCommand(
    sub('list', 'List the re-index schedules')
      .option('--json', 'machine-readable output')
      .action(async (o: GlobalOpts & { json?: boolean }) => {
        process.exitCode = await withClient(o, async (client) => {
          const rows: Array<Record<string, unknown>> = [];
          for await (const s of client.schedule.list()) {
            if (!s.scheduleId.startsWith('reindex-')) continue;
            rows.push({ scheduleId: s.scheduleId, collection: s.scheduleId.slice('reindex-'.length), paused: s.state.paused, next: s.info.nextActionTimes[0]?.toISOString() ?? null });
          }
          if (o.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
          else if (rows.length === 0) process.stdout.write('no re-index schedules\n');
          else for (const r of rows) process.stdout.write(`${r.collection}\t${r.paused ? 'paused' : 'active'}\tnext ${r.next ?? '-'}\n`);
          return EXIT.ok;
        });
      }),
  );

  cmd.addCommand(
    sub('describe', "Show a collection's schedule: spec, state, next and recent runs")
      .argument('<collection>')
      .option('--json', 'machine-readable output')
      .action(async (name: string, o: GlobalOpts & { json?: boolean }) => {
        const collection = validateCollectionName(name);
        process.exitCode = await withClient(o, async (client) => {
          const d = await client.schedule.getHandle(scheduleId(collection)).describe();
          const out = {
            scheduleId: d.scheduleId,
            paused: d.state.paused,
            note: d.state.note ?? null,
            overlap: d.policies.overlap,
            intervals: d.spec.intervals?.map((i) => i.every) ?? [],
            calendars: d.spec.calendars ?? [], // cron expressions come back as calendar specs
            nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
            recentActions: d.info.recentActions.map((a) => ({ at: a.takenAt.toISOString(), workflowId: a.action.type === 'startWorkflow' ? a.action.workflow.workflowId : null })),
            runningActions: d.info.runningActions.map((a) => a.workflow.workflowId),
          };
          process.stdout.write(o.json ? `${JSON.stringify(out)}\n` : `${JSON.stringify(out, null, 2)}\n`);
          return EXIT.ok;
        });
      }),
  );

  for (const [verb, text] of [
    ['pause', 'Pause a collection\'s schedule'],
    ['unpause', 'Resume a paused schedule'],
  ] as const) {
    cmd.addCommand(
      sub(verb, text)
        .argument('<collection>')
        .option('--note <text>', 'why')
        .action(async (name: string, o: GlobalOpts & { note?: string }) => {
          const collection = validateCollectionName(name);
          process.exitCode = await withClient(o, async (client) => {
            await client.schedule.getHandle(scheduleId(collection))[verb](o.note);
            process.stdout.write(`${verb}d ${scheduleId(collection)}\n`);
            return EXIT.ok;
          });
        }),
    );
  }

  cmd.addCommand(
    sub('trigger', 'Run a re-index now (the overlap policy still applies)')
      .argument('<collection>')
      .addOption(new Option('--overlap <policy>', 'overlap policy for this run').choices(OVERLAPS).default('skip'))
      .action(async (name: string, o: GlobalOpts & { overlap?: string }) => {
        const collection = validateCollectionName(name);
        process.exitCode = await withClient(o, async (client) => {
          await client.schedule.getHandle(scheduleId(collection)).trigger(overlapOf(o.overlap));
          process.stdout.write(`triggered ${scheduleId(collection)}\n`);
          return EXIT.ok;
        });
      }),
  );

  cmd.addCommand(
    sub('backfill', 'Run the re-indexes a period would have had (e.g. after a pause)')
      .argument('<collection>')
      .requiredOption('--from <time>', 'start, ISO 8601')
      .requiredOption('--to <time>', 'end, ISO 8601')
      .addOption(new Option('--overlap <policy>', 'overlap policy for the backfilled runs').choices(OVERLAPS).default('skip'))
      .action(async (name: string, o: GlobalOpts & { from: string; to: string; overlap?: string }) => {
        const collection = validateCollectionName(name);
        const start = new Date(o.from);
        const end = new Date(o.to);
        if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end <= start) {
          throw new ConfigError('--from and --to must be ISO 8601 times with --from before --to');
        }
        process.exitCode = await withClient(o, async (client) => {
          await client.schedule.getHandle(scheduleId(collection)).backfill({ start, end, overlap: overlapOf(o.overlap) });
          process.stdout.write(`backfilled ${scheduleId(collection)} from ${start.toISOString()} to ${end.toISOString()}\n`);
          return EXIT.ok;
        });
      }),
  );

  cmd.addCommand(
    sub('delete', "Delete a collection's schedule (runs in progress go on)")
      .argument('<collection>')
      .action(async (name: string, o: GlobalOpts) => {
        const collection = validateCollectionName(name);
        process.exitCode = await withClient(o, async (client) => {
          await client.schedule.getHandle(scheduleId(collection)).delete();
          process.stdout.write(`deleted ${scheduleId(collection)}\n`);
          return EXIT.ok;
        });
      }),
  );
  return cmd;
}
