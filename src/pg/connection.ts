import type { Pool, PoolClient } from 'pg';

/**
 * Runs `fn` on one pooled connection. While a connection is checked out the pool does not
 * listen for its errors, and a connection that dies between two queries emits an 'error' event
 * that, unheard, would crash the worker process; so we listen, roll back whatever `fn` left
 * open when it throws, and destroy a broken connection instead of returning it to the pool.
 */
export async function withClient<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => (broken = err);
  c.on('error', onError);
  try {
    return await fn(c);
  } catch (err) {
    await c.query('ROLLBACK').catch((e: Error) => (broken ??= e));
    throw err;
  } finally {
    c.off('error', onError);
    c.release(broken);
  }
}

/** Runs `fn` in a transaction on one pooled connection (see withClient). */
export function inTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (c) => {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  });
}
