/**
 * npm run bench -- <name> [--smoke]
 *   tax          orchestration tax: Temporal pipeline ÷ bare promise pool, same work
 *   sink         pgvector write path ÷ raw binary COPY; QdrantStore ÷ bare client loop
 *   ratelimit    sustained throughput and 429 share under enforced RPM/TPM, beside a naive semaphore(100)
 *   scale        history bytes/chunk, events per run, RSS at growing chunk counts
 *   incremental  unchanged re-index ÷ first run; embedding calls after a 1% change
 *   peer         LangChain.js index() beside vector-ingest on the same corpus (installs LangChain in bench/peer)
 *   local        the local embedder: texts/s per core beside a bare transformers.js loop, RSS with the model
 *   fairness     a small collection beside a big one on the same workers ÷ alone; the big one's loss
 *   halfvec      pgvector halfvec beside vector: table and HNSW index size, build time, recall@10 against exact search
 *   all          every one of them
 *   taxprofile   where the tax goes: CPU per process, Postgres commits, the durable run's timeline (not in all)
 *   bloat        a peer-sized run with the state store's churn tables full of dead rows ÷ after VACUUM (not in all)
 * --smoke runs each at a small size (CI keeps them from rotting); results go to bench/results/.
 */
import { bloat } from './bloat';
import { fairness } from './fairness';
import { halfvec } from './halfvec';
import { incremental } from './incremental';
import { local } from './local';
import { peer } from './peer';
import { ratelimit } from './ratelimit';
import { scale } from './scale';
import { sink } from './sink';
import { tax } from './tax';
import { taxProfile } from './tax-profile';

const BENCHES: Record<string, (smoke: boolean) => Promise<void>> = { tax, sink, ratelimit, scale, incremental, peer, local, fairness, halfvec };

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const smoke = args.includes('--smoke');
  const names = args.filter((a) => !a.startsWith('--'));
  const selected = names.length === 0 || names.includes('all') ? Object.keys(BENCHES) : names;
  const all: Record<string, (smoke: boolean) => Promise<void>> = { ...BENCHES, taxprofile: taxProfile, bloat };
  for (const n of selected) {
    if (!all[n]) {
      console.error(`unknown benchmark ${n}; choose from ${Object.keys(BENCHES).join(', ')}, all`);
      process.exit(2);
    }
  }
  for (const n of selected) {
    const t0 = Date.now();
    await all[n]!(smoke);
    console.log(`(${n} took ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
