import { Command, Option } from 'commander';
import { OFFLINE_WARNING } from '../embedders';
import { CollectionNotFoundError, EmbedderMismatchError, openSearch, searchCollection, type SearchResponse } from '../search';
import { startServices } from '../stack';
import { addGlobalOptions, configFrom, EXIT, loggerFor, parseIntOption, type GlobalOpts } from './common';

interface SearchOpts extends GlobalOpts {
  limit: number;
  json?: boolean;
  hybrid?: boolean;
  where: string[];
  efSearch?: number;
}

export function searchCommand(): Command {
  const cmd = new Command('search')
    .description("Search a collection: the query is embedded with the collection's own embedder, then the nearest chunks (cosine) are listed")
    .argument('<collection>', 'collection name')
    .argument('<query>', 'what to look for (quote it)')
    .option('--limit <n>', 'results to show (1-1000)', parseIntOption('--limit'), 10)
    .option('--json', 'machine-readable output on stdout: {collection, sink, model, hybrid, results: [...]}')
    .option('--hybrid', 'fuse the dense ranking with a full-text ranking of the chunk text (reciprocal rank fusion): for names and codes')
    .addOption(
      new Option('--where <key=value>', 'only chunks where key=value; repeatable (all must hold). path=<glob> filters on the document path (e.g. path=docs/**); other keys are chunk metadata')
        .argParser((v: string, prev: string[] = []) => [...prev, v])
        .default([]),
    )
    .option('--ef-search <n>', 'HNSW candidate list size for this query (pgvector hnsw.ef_search, Qdrant hnsw_ef; 1-1000)', parseIntOption('--ef-search'));
  addGlobalOptions(cmd);
  cmd.addHelpText(
    'after',
    '\nNeeds the database (DATABASE_URL, or the embedded PGlite under the data dir) and the same embedder\n' +
      'configuration the collection was ingested with; no Temporal server.\n' +
      '\nExamples:\n' +
      '  vector-ingest search demo "how do retries work"\n' +
      '  vector-ingest search demo "ERR_QX_4471 timeout" --hybrid --where path=guides/** --json\n' +
      '\nExit codes: 0 searched (even with no results), 2 bad arguments or another embedder than the collection\'s, 4 no such collection.',
  );
  cmd.action(async (collection: string, query: string, opts: SearchOpts) => {
    const config = configFrom(opts);
    const log = loggerFor(config);
    const services = await startServices(config, log, { needDatabase: true, needTemporal: false });
    let search: Awaited<ReturnType<typeof openSearch>>;
    try {
      search = await openSearch(config, services.databaseUrl!);
    } catch (err) {
      await services.stop(); // e.g. the local model is not installed: the message names the command
      throw err;
    }
    try {
      if (!search.embedder.semantic) log.warn(OFFLINE_WARNING);
      let r: SearchResponse;
      try {
        r = await searchCollection(search, { collection, query, limit: opts.limit, hybrid: opts.hybrid, where: opts.where, efSearch: opts.efSearch });
      } catch (err) {
        if (err instanceof CollectionNotFoundError) {
          process.stderr.write(`error: ${err.message}\n`);
          process.exitCode = EXIT.notFound;
          return;
        }
        if (err instanceof EmbedderMismatchError) {
          process.stderr.write(`error: ${err.message}\n`);
          process.exitCode = EXIT.usage;
          return;
        }
        throw err;
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      if (r.results.length === 0) {
        process.stderr.write(`no results in ${r.collection}\n`);
        return;
      }
      const rankWidth = String(r.results.length).length;
      for (const x of r.results) {
        const score = r.hybrid ? x.score.toFixed(4) : x.score.toFixed(3);
        process.stdout.write(`${String(x.rank).padStart(rankWidth)}. ${score}  ${x.documentId} #${x.chunkIndex}\n${' '.repeat(rankWidth + 2)}${x.snippet}\n`);
      }
    } finally {
      await search.close();
      await services.stop();
    }
  });
  return cmd;
}
