import { Command } from 'commander';
import { startServices } from '../stack';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { addGlobalOptions, configFrom, connectClient, EXIT, loggerFor, type GlobalOpts } from './common';

/** temporal.api.enums.v1.IndexedValueType (the proto package is not a runtime dependency). */
const TYPES: Record<string, number> = { Keyword: 2, Int: 3 };

/**
 * Registers the custom search attributes on a namespace (idempotent): what lets runs be found
 * by collection (`status`, the Web UI's `Collection = "docs"`) whatever their workflow id.
 */
export function setupCommand(): Command {
  const cmd = new Command('setup')
    .description('Register the search attributes vector-ingest uses (Collection, IngestPhase, ...) on the namespace; safe to repeat')
    .option('--json', 'machine-readable output on stdout');
  addGlobalOptions(cmd);
  cmd.addHelpText('after', '\nNeeds operator access to the namespace (Temporal Cloud: an API key with namespace admin).\nExit codes: 0 registered (or already there), 1 the server refused.');
  cmd.action(async (opts: GlobalOpts & { json?: boolean }) => {
    const config = configFrom(opts);
    const services = await startServices(config, loggerFor(config), { needDatabase: false, headless: true });
    const { client, close } = await connectClient(services);
    try {
      const namespace = services.namespace;
      const have = (await client.connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
      const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !(name in have));
      if (missing.length > 0) {
        await client.connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, TYPES[type]!])),
        });
      }
      const out = { namespace, registered: missing.map(([n]) => n), alreadyThere: Object.keys(SEARCH_ATTRIBUTES).filter((n) => n in have) };
      if (opts.json) process.stdout.write(`${JSON.stringify(out)}\n`);
      else
        process.stdout.write(
          missing.length > 0
            ? `registered ${out.registered.join(', ')} on namespace ${namespace}${out.alreadyThere.length ? ` (already there: ${out.alreadyThere.join(', ')})` : ''}\n`
            : `namespace ${namespace} already has ${out.alreadyThere.join(', ')}\n`,
        );
      process.exitCode = EXIT.ok;
    } finally {
      await close();
      await services.stop();
    }
  });
  return cmd;
}
