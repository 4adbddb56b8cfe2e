import type { Client } from '@temporalio/client';
import type { Logger } from './log';
import { SEARCH_ATTRIBUTES } from './workflows/search-attributes';

/**
 * Whether the namespace has our custom search attributes. Workflows upsert them only if so;
 * otherwise they run without them and this says how to register them.
 */
export async function searchAttributesRegistered(client: Client, namespace: string, log: Logger): Promise<boolean> {
  try {
    const res = await client.connection.operatorService.listSearchAttributes({ namespace });
    const have = res.customAttributes ?? {};
    const missing = Object.keys(SEARCH_ATTRIBUTES).filter((name) => !(name in have));
    if (missing.length === 0) return true;
    log.warn(
      { missing },
      `search attributes are not registered in namespace ${namespace}; runs will not be filterable by collection. Register them with: ` +
        Object.entries(SEARCH_ATTRIBUTES)
          .map(([n, t]) => `temporal operator search-attribute create --namespace ${namespace} --name ${n} --type ${t}`)
          .join(' && '),
    );
    return false;
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'cannot list search attributes (no operator access?); runs will not upsert them');
    return false;
  }
}
