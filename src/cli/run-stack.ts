import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../log';
import { startServices, startWorker, type RunningWorker, type Services } from '../stack';
import { connectClient } from './common';

export interface RunStack {
  services: Services;
  client: Client;
  /** Nobody else would run the work: embedded services that no `vector-ingest dev` provides. */
  readonly needsLocalWorker: boolean;
  /** Starts a worker in this process; it is drained before the services stop. */
  startLocalWorker(): Promise<void>;
}

/**
 * What `ingest` and `watch` run on: the services (embedded ones started here, configured ones
 * connected to), a Temporal client and, when the command asks, a worker in this process. `body`
 * runs with them; however it ends, they are torn down in reverse order: client, worker (drained),
 * services.
 */
export async function withRunStack<T>(config: Config, log: Logger, o: { needDatabase: boolean }, body: (stack: RunStack) => Promise<T>): Promise<T> {
  const services = await startServices(config, log, { needDatabase: o.needDatabase });
  let closeClient: (() => Promise<void>) | undefined;
  let worker: RunningWorker | undefined;
  try {
    const { client, close } = await connectClient(services);
    closeClient = close;
    return await body({
      services,
      client,
      needsLocalWorker: !config.temporalAddress && !services.fromDev,
      startLocalWorker: async () => {
        worker ??= await startWorker(config, log, services);
      },
    });
  } finally {
    await closeClient?.();
    if (worker) {
      worker.set.shutdown();
      await worker.done;
    }
    await services.stop();
  }
}
