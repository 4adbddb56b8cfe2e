import { Command } from 'commander';
import pg from 'pg';
import { dropGeneration, GenerationError, listGenerations } from '../generations';
import { createSinks } from '../sinks';
import { startServices } from '../stack';
import { StateStore } from '../state/store';
import { addGlobalOptions, configFrom, EXIT, loggerFor, parseIntOption, type GlobalOpts } from './common';

async function withStore(opts: GlobalOpts, fn: (deps: { store: StateStore; sinks: ReturnType<typeof createSinks> }) => Promise<void>): Promise<void> {
  const config = configFrom(opts);
  const services = await startServices(config, loggerFor(config), { needDatabase: true, needTemporal: false });
  const pool = new pg.Pool({ connectionString: services.databaseUrl!, max: 2 });
  try {
    const store = new StateStore(pool);
    await store.migrate();
    await fn({ store, sinks: createSinks(config, pool) });
    process.exitCode ??= EXIT.ok;
  } catch (err) {
    if (!(err instanceof GenerationError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = err.kind === 'notFound' ? EXIT.notFound : EXIT.conflict;
  } finally {
    await pool.end();
    await services.stop();
  }
}

/** `vector-ingest generations list|drop <collection>`: the generations a rebuild leaves, and dropping them. */
export function generationsCommand(): Command {
  const cmd = new Command('generations').description(
    "A collection's generations: the live one (what its name and search show), a rebuild being built beside it, and retired ones kept after a swap",
  );
  const list = new Command('list').argument('<collection>').description('List the generations of a collection').option('--json', 'machine-readable output');
  addGlobalOptions(list);
  list.action(async (collection: string, opts: GlobalOpts & { json?: boolean }) =>
    withStore(opts, async ({ store }) => {
      const gens = await listGenerations(store, collection);
      if (opts.json) return void process.stdout.write(`${JSON.stringify(gens)}\n`);
      if (gens.length === 0) return void process.stdout.write(`${collection} has one generation, made before generations were recorded (its next run records it)\n`);
      for (const g of gens) {
        process.stdout.write(
          `${String(g.generation).padStart(3)}  ${g.state.padEnd(8)}  ${g.sink} ${g.storage}  ${g.model} (${g.dimensions} dims, ${g.vectorType})  created ${g.createdAt}${g.liveSince ? `, live since ${g.liveSince}` : ''}\n`,
        );
      }
    }),
  );
  const drop = new Command('drop')
    .argument('<collection>')
    .argument('<generation>', 'generation number (see `generations list`)', parseIntOption('<generation>'))
    .description('Drop a retired generation, or an unfinished rebuild; never the live one')
    .option('--force', 'drop an unfinished rebuild even though a run holds the collection (stop that run first)')
    .option('--json', 'machine-readable output');
  addGlobalOptions(drop);
  drop.addHelpText('after', '\nExit codes: 0 dropped, 3 refused (the live generation, or a rebuild a run may be writing), 4 no such collection or generation.');
  drop.action(async (collection: string, generation: number, opts: GlobalOpts & { force?: boolean; json?: boolean }) =>
    withStore(opts, async (deps) => {
      const r = await dropGeneration(deps, collection, generation, { force: opts.force });
      if (opts.json) return void process.stdout.write(`${JSON.stringify(r)}\n`);
      process.stdout.write(
        `dropped generation ${r.dropped.generation} of ${collection} (${r.dropped.state}, ${r.dropped.sink} ${r.dropped.storage}); evicted ${r.evicted} cached vectors of models nothing uses\n`,
      );
    }),
  );
  cmd.addCommand(list);
  cmd.addCommand(drop);
  return cmd;
}
