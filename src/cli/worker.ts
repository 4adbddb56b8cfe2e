import { Command, Option } from 'commander';
import { describeConfig } from '../config';
import { startServices, startWorker } from '../stack';
import { EMBED_TASK_QUEUE, TASK_QUEUE, UPSERT_TASK_QUEUE } from '../contracts/ingest';
import { addGlobalOptions, configFrom, loggerFor, parseIntOption, type GlobalOpts } from './common';

interface WorkerOpts extends GlobalOpts {
  embedConcurrency?: number;
  upsertConcurrency?: number;
  planConcurrency?: number;
  embedRate?: number;
  embedRpm?: number;
  embedTpm?: number;
  metricsPort?: number;
}

export function workerCommand(): Command {
  const cmd = new Command('worker')
    .description(`Run workers for the ${TASK_QUEUE}, ${EMBED_TASK_QUEUE} and ${UPSERT_TASK_QUEUE} task queues until SIGINT/SIGTERM`)
    .option('--embed-concurrency <n>', 'embedding activities at once (env VECTOR_INGEST_EMBED_CONCURRENCY, default 16 under adaptive embedding, else 4; 2 with the local model)', parseIntOption('--embed-concurrency'))
    .option('--upsert-concurrency <n>', 'upsert activities at once (env VECTOR_INGEST_UPSERT_CONCURRENCY, default 4)', parseIntOption('--upsert-concurrency'))
    .option('--plan-concurrency <n>', 'planning activities at once (env VECTOR_INGEST_PLAN_CONCURRENCY, default 2)', parseIntOption('--plan-concurrency'))
    .option('--metrics-port <n>', 'Prometheus /metrics port, 0 = off (env VECTOR_INGEST_METRICS_PORT, default 9464)', parseIntOption('--metrics-port'))
    .addOption(new Option('--embed-rate <per-second>', 'embedding activities per second, all workers together (env VECTOR_INGEST_EMBED_RATE)').argParser(Number))
    .option('--embed-rpm <n>', 'embedding requests per minute, all workers together (env VECTOR_INGEST_EMBED_RPM; default: the provider\'s x-ratelimit headers)', parseIntOption('--embed-rpm'))
    .option('--embed-tpm <n>', 'embedding tokens per minute, all workers together (env VECTOR_INGEST_EMBED_TPM; default: the provider\'s x-ratelimit headers)', parseIntOption('--embed-tpm'));
  addGlobalOptions(cmd);
  cmd.addHelpText(
    'after',
    `
On SIGINT/SIGTERM the workers stop polling, let running activities finish (30 s grace), and only
then close their database and HTTP clients. An activity still running when the grace time is over
is given up (WorkerShutdown); it and anything unfinished is retried by another worker.`,
  );
  cmd.action(async (opts: WorkerOpts) => {
    const config = configFrom(opts, {
      embedConcurrency: opts.embedConcurrency,
      upsertConcurrency: opts.upsertConcurrency,
      planConcurrency: opts.planConcurrency,
      embedRatePerSecond: opts.embedRate,
      embedRequestsPerMinute: opts.embedRpm,
      embedTokensPerMinute: opts.embedTpm,
      metricsPort: opts.metricsPort,
    });
    const log = loggerFor(config);
    log.info(describeConfig(config), 'starting worker');
    const services = await startServices(config, log, { needDatabase: true });
    try {
      const w = await startWorker(config, log, services, { metricsPort: config.metricsPort ?? 9464 });
      log.info({ temporal: services.temporalAddress, namespace: services.namespace }, 'worker running; Ctrl-C to stop');
      await w.done;
      log.info('worker drained and stopped');
    } finally {
      await services.stop();
    }
  });
  return cmd;
}
