import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import type { Tracing } from './tracing/setup';
import { batchSlots } from './activities/semaphore';
import { createActivities, EMBED_ACTIVITIES, MAIN_ACTIVITIES, UPSERT_ACTIVITIES, type Activities } from './activities';
import type { Config } from './config';
import type { Deps } from './deps';
import { prebuiltWorkflowBundle, TRACING_INTERCEPTOR_MODULES } from './workflow-bundle';
import { EMBED_TASK_QUEUE, TASK_QUEUE, UPSERT_TASK_QUEUE } from './contracts/ingest';

export interface WorkerSetOptions {
  connection: NativeConnection;
  namespace: string;
  config: Config;
  deps: Deps;
  /** A workflow bundle built by the caller (tests build it once); else the build's, else bundled here. */
  workflowBundle?: WorkflowBundleOption;
  /** How long in-flight activities get to finish when shutting down. */
  shutdownGraceTime?: string;
  /** OpenTelemetry (src/tracing/setup.ts): activity spans, and workflow spans through the exporter sink. */
  tracing?: Tracing;
}

export interface WorkerSet {
  workers: Worker[];
  /** Resolves once every worker has stopped and drained. */
  run(): Promise<void>;
  shutdown(): void;
}

function pick<K extends keyof Activities>(all: Activities, keys: readonly K[]): Pick<Activities, K> {
  return Object.fromEntries(keys.map((k) => [k, all[k]])) as Pick<Activities, K>;
}

/**
 * Three workers over one connection: the main queue runs workflows and planning, and embedding
 * and upserts have queues of their own, so each has its own bounded slots (and embedding a
 * server-enforced rate) and a slow provider never starves the writes or the workflow.
 */
export async function createWorkerSet(o: WorkerSetOptions): Promise<WorkerSet> {
  // The provider and sink budgets hold across both pipelines (src/activities/semaphore.ts).
  const { embedConcurrency, upsertConcurrency } = o.config;
  const activities = createActivities(o.deps, batchSlots(embedConcurrency, upsertConcurrency));
  // Tracing: a span per activity (its parent the workflow's, from the headers) and the workflows'
  // spans through the exporter sink (src/tracing/setup.ts).
  const activityInterceptors = o.tracing
    ? [(ctx: ConstructorParameters<typeof OpenTelemetryActivityInboundInterceptor>[0]) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })]
    : [];
  const common = {
    connection: o.connection,
    namespace: o.namespace,
    shutdownGraceTime: o.shutdownGraceTime ?? '30s',
    ...(o.tracing && { sinks: { exporter: makeWorkflowExporter(o.tracing.spanProcessor, o.tracing.resource) } }),
    interceptors: { activity: activityInterceptors },
  };
  // With tracing, the bundle that holds the OpenTelemetry workflow interceptors (a caller's own bundle must hold them).
  const bundle = o.workflowBundle ?? prebuiltWorkflowBundle({ traced: o.tracing !== undefined });
  const workflows = bundle
    ? { workflowBundle: bundle, interceptors: { activity: activityInterceptors } }
    : { workflowsPath: require.resolve('./workflows'), interceptors: { activity: activityInterceptors, ...(o.tracing && { workflowModules: TRACING_INTERCEPTOR_MODULES }) } };
  const workers = [
    await Worker.create({
      ...common,
      ...workflows,
      taskQueue: TASK_QUEUE,
      activities: pick(activities, MAIN_ACTIVITIES),
      maxConcurrentActivityTaskExecutions: o.config.planConcurrency,
    }),
    await Worker.create({
      ...common,
      taskQueue: EMBED_TASK_QUEUE,
      activities: pick(activities, EMBED_ACTIVITIES),
      // A fused batch activity (pipeline "fused") holds an embedding slot while it asks the
      // provider and a write slot while it writes: with slots for both budgets, the provider's
      // stays full while earlier batches write. The budgets themselves are the semaphores.
      maxConcurrentActivityTaskExecutions: embedConcurrency + upsertConcurrency,
      ...(o.config.embedRatePerSecond ? { maxTaskQueueActivitiesPerSecond: o.config.embedRatePerSecond } : {}),
    }),
    await Worker.create({
      ...common,
      taskQueue: UPSERT_TASK_QUEUE,
      activities: pick(activities, UPSERT_ACTIVITIES),
      maxConcurrentActivityTaskExecutions: o.config.upsertConcurrency,
    }),
  ];
  let running: Promise<void> | undefined;
  return {
    workers,
    run: () => {
      running ??= Promise.all(workers.map((w) => w.run())).then(() => undefined);
      return running;
    },
    shutdown: () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}
