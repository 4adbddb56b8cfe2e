import { Gauge } from 'prom-client';
import { registry } from './registry';

/** What the gauges read of a pg.Pool (its own counters; nothing is queried). */
export interface PoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

const pools = new Set<PoolCounts>();
const sum = (f: (p: PoolCounts) => number) => [...pools].reduce((n, p) => n + f(p), 0);

/**
 * Postgres pool gauges, read from the pools when Prometheus scrapes: connections open, idle, and
 * queries waiting for a connection (waiting > 0 for long means the pool is too small for the
 * worker's concurrency). Summed over the pools this process watches (one per worker).
 */
const gauges = {
  total: new Gauge({
    name: 'vector_ingest_pg_pool_connections',
    help: 'Postgres connections open in the worker\'s pool',
    registers: [registry],
    collect() {
      this.set(sum((p) => p.totalCount));
    },
  }),
  idle: new Gauge({
    name: 'vector_ingest_pg_pool_idle_connections',
    help: 'Open Postgres connections of the pool not in use',
    registers: [registry],
    collect() {
      this.set(sum((p) => p.idleCount));
    },
  }),
  waiting: new Gauge({
    name: 'vector_ingest_pg_pool_waiting_clients',
    help: 'Queries waiting for a Postgres connection of the pool',
    registers: [registry],
    collect() {
      this.set(sum((p) => p.waitingCount));
    },
  }),
};
void gauges;

/** Watches `pool` until the returned function is called (when the pool is closed). */
export function observePool(pool: PoolCounts): () => void {
  pools.add(pool);
  return () => {
    pools.delete(pool);
  };
}
