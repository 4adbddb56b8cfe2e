import type { Client } from '@temporalio/client';
import pg from 'pg';
import { ingestWorkflowId } from '../contracts/ingest';
import { LeaseStore } from '../state/leases';

export interface FoundRun {
  workflowId: string;
  /** How it was found: the `Collection` search attribute, the state store's lease, or the default id. */
  via: 'search-attribute' | 'state-store' | 'default-id';
}

/**
 * The latest ingest run of a collection, whatever workflow id it was started under (this CLI,
 * the Temporal CLI, a schedule): first by the `Collection` search attribute where the namespace
 * has it, then by the lease row the run took in the state store (when the database is
 * reachable), else the id `ingest` uses.
 */
export async function findIngestRun(client: Client, collection: string, databaseUrl?: string): Promise<FoundRun> {
  try {
    const query = `WorkflowType = 'ingestCollection' AND Collection = '${collection}'`;
    for await (const exec of client.workflow.list({ query, pageSize: 10 })) {
      return { workflowId: exec.workflowId, via: 'search-attribute' };
    }
  } catch {
    // the namespace lacks the search attribute (or visibility is unavailable): try the database
  }
  if (databaseUrl) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: 5_000 });
    try {
      const lease = await new LeaseStore(pool).get(collection);
      if (lease) return { workflowId: lease.workflowId, via: 'state-store' };
    } catch {
      // no state store there (yet): fall through
    } finally {
      await pool.end().catch(() => undefined);
    }
  }
  return { workflowId: ingestWorkflowId(collection), via: 'default-id' };
}
