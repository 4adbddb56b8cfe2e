/**
 * Screenshots of the Temporal Web UI telling a run's story, taken in a real browser (Debian
 * chromium driven by playwright-core). Starts the embedded stack in a temporary data dir, ingests
 * the example corpus plus a broken file into `demo` (and another collection, so the filter has
 * something to filter out), then saves:
 *   docs/screenshots/runs-filtered.png  the run list filtered by Collection = "demo"
 *   docs/screenshots/run.png            the ingest run's page (input, result counters, events)
 *   docs/screenshots/run-details.png    its User Metadata tab: summary, details, current details
 *   docs/screenshots/failures.png       the replay workflow of `demo` (its failure list)
 *
 *   bash scripts/infra/install-chromium.sh && node --import tsx scripts/ui-screenshots.ts
 */
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/log';
import { startServices, startWorker } from '../src/stack';
import { ingestCollection } from '../src/workflows';
import { replayWorkflowId } from '../src/contracts/replay';
import { ingestWorkflowId, TASK_QUEUE } from '../src/contracts/ingest';

const OUT = path.resolve(__dirname, '../docs/screenshots');

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vi-ui-'));
  const docs = path.join(dataDir, 'docs');
  cpSync(path.resolve(__dirname, '../examples/docs'), docs, { recursive: true });
  writeFileSync(path.join(docs, 'broken.txt'), Buffer.from([0xc3, 0x28, 0xa0, 0xa1]));
  const config = loadConfig({ ...process.env, VECTOR_INGEST_DATA_DIR: dataDir, LOG_LEVEL: 'warn', TEMPORAL_ADDRESS: '', DATABASE_URL: '' });
  const log = createLogger('warn', { pretty: false });
  const services = await startServices(config, log, { needDatabase: true });
  const worker = await startWorker(config, log, services, { metricsPort: 0 });
  const connection = await Connection.connect(services.connection);
  const client = new Client({ connection, namespace: services.namespace });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
  });
  try {
    for (const collection of ['demo', 'other']) {
      await client.workflow.execute(ingestCollection, {
        taskQueue: TASK_QUEUE,
        workflowId: ingestWorkflowId(collection),
        args: [{ collection, source: { kind: 'directory', path: docs } }],
        staticSummary: `Ingest ${collection} from ${docs}`,
        staticDetails: `Directory source \`${docs}\`, default chunking (512 tokens, 64 overlap).`,
      });
    }
    mkdirSync(OUT, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const ui = services.uiUrl!;
    const query = encodeURIComponent('Collection = "demo"');
    await page.goto(`${ui}/namespaces/${services.namespace}/workflows?query=${query}`);
    await page.waitForSelector(`text=${ingestWorkflowId('demo')}`, { timeout: 30_000 });
    await page.waitForTimeout(1000);
    await page.screenshot({ path: path.join(OUT, 'runs-filtered.png') });

    const runId = (await client.workflow.getHandle(ingestWorkflowId('demo')).describe()).runId;
    await page.goto(`${ui}/namespaces/${services.namespace}/workflows/${ingestWorkflowId('demo')}/${runId}/history`);
    await page.waitForSelector('text=Completed', { timeout: 30_000 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(OUT, 'run.png'), fullPage: false });
    await page.click('text=User Metadata');
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(OUT, 'run-details.png'), fullPage: false });

    const replayRun = (await client.workflow.getHandle(replayWorkflowId('demo')).describe()).runId;
    await page.goto(`${ui}/namespaces/${services.namespace}/workflows/${replayWorkflowId('demo')}/${replayRun}/history`);
    await page.waitForSelector('text=Running', { timeout: 30_000 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(OUT, 'failures.png'), fullPage: false });
    console.log(`screenshots in ${OUT}`);
  } finally {
    await browser.close();
    await connection.close();
    worker.set.shutdown();
    await worker.done;
    await services.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
