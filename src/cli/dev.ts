import { Command } from 'commander';
import { describeConfig } from '../config';
import { clearDevRecord, startServices, startWorker, writeDevRecord } from '../stack';
import { addGlobalOptions, configFrom, loggerFor, parseIntOption, type GlobalOpts } from './common';

interface DevOpts extends GlobalOpts {
  port: number;
  uiPort: number;
}

export function devCommand(): Command {
  const cmd = new Command('dev')
    .description('Run a local Temporal dev server (with Web UI), embedded PGlite+pgvector and a worker, until Ctrl-C')
    .option('--port <n>', 'Temporal frontend port', parseIntOption('--port'), 7233)
    .option('--ui-port <n>', 'Temporal Web UI port', parseIntOption('--ui-port'), 8233);
  addGlobalOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Everything persists under the data dir (Temporal's SQLite database and PGlite), so runs, their
history and the vectors survive a restart. While it runs, \`vector-ingest ingest\` and
\`status\` on the same data dir use it, and so does the Temporal CLI:
  temporal workflow list --address 127.0.0.1:7233`,
  );
  cmd.action(async (opts: DevOpts) => {
    const config = configFrom(opts);
    const log = loggerFor(config);
    log.info(describeConfig(config), 'starting dev environment');
    const services = await startServices(config, log, { needDatabase: true, temporalPort: opts.port, uiPort: opts.uiPort });
    try {
      const w = await startWorker(config, log, services, { metricsPort: config.metricsPort ?? 9464 });
      writeDevRecord(config.dataDir, {
        pid: process.pid,
        temporalAddress: services.temporalAddress,
        namespace: services.namespace,
        uiUrl: services.uiUrl,
        databaseUrl: config.databaseUrl ? undefined : services.databaseUrl,
      });
      process.stderr.write(
        `\nvector-ingest dev is up\n  Temporal: ${services.temporalAddress} (namespace ${services.namespace})\n` +
          (services.uiUrl ? `  Web UI:   ${services.uiUrl}\n` : '') +
          `  Try:      vector-ingest ingest ./examples/docs --collection demo\n  Stop:     Ctrl-C\n\n`,
      );
      await w.done;
    } finally {
      clearDevRecord(config.dataDir);
      await services.stop();
    }
  });
  return cmd;
}
