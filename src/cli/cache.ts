import { Command } from 'commander';
import pg from 'pg';
import { startServices } from '../stack';
import { CacheEviction } from '../state/cache-eviction';
import { addGlobalOptions, configFrom, EXIT, loggerFor, parseIntOption, type GlobalOpts } from './common';

async function withEviction(opts: GlobalOpts, fn: (e: CacheEviction) => Promise<void>): Promise<void> {
  const config = configFrom(opts);
  const services = await startServices(config, loggerFor(config), { needDatabase: true, needTemporal: false });
  const pool = new pg.Pool({ connectionString: services.databaseUrl!, max: 1 });
  try {
    await fn(new CacheEviction(pool));
    process.exitCode = EXIT.ok;
  } finally {
    await pool.end();
    await services.stop();
  }
}

/** `vector-ingest cache stats|prune`: what the embedding cache holds, and bounding it. */
export function cacheCommand(): Command {
  const cmd = new Command('cache').description('Inspect and prune the embedding cache (vectors by model and text hash)');
  const stats = new Command('stats').description('Rows, bytes and age of the cached vectors, per model; whether a collection uses the model').option('--json', 'machine-readable output');
  addGlobalOptions(stats);
  stats.action(async (opts: GlobalOpts & { json?: boolean }) =>
    withEviction(opts, async (e) => {
      const rows = await e.stats();
      if (opts.json) return void process.stdout.write(`${JSON.stringify(rows)}\n`);
      if (rows.length === 0) return void process.stdout.write('the embedding cache is empty\n');
      for (const r of rows) {
        process.stdout.write(
          `${r.model} (${r.dimensions} dims): ${r.rows} vectors, ${(r.bytes / 1024 / 1024).toFixed(1)} MiB, ${r.oldest} … ${r.newest}${r.used ? '' : '  [no collection uses it: `cache prune` removes it]'}\n`,
        );
      }
    }),
  );
  const prune = new Command('prune')
    .description('Delete vectors of models no collection uses; with --max-rows, then the oldest beyond that many')
    .option('--max-rows <n>', 'keep at most this many vectors (oldest go first)', parseIntOption('--max-rows'))
    .option('--json', 'machine-readable output');
  addGlobalOptions(prune);
  prune.addHelpText('after', '\nVectors a staged chunk still waits for are never deleted, so pruning during a run is safe.');
  prune.action(async (opts: GlobalOpts & { maxRows?: number; json?: boolean }) =>
    withEviction(opts, async (e) => {
      const r = await e.prune({ maxRows: opts.maxRows });
      if (opts.json) return void process.stdout.write(`${JSON.stringify(r)}\n`);
      process.stdout.write(`deleted ${r.unusedModels} vectors of unused models${opts.maxRows === undefined ? '' : ` and ${r.overCap} beyond ${opts.maxRows} rows`}\n`);
    }),
  );
  cmd.addCommand(stats);
  cmd.addCommand(prune);
  return cmd;
}
