import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundlePath } from '@temporalio/worker';

/**
 * The workflow code, bundled once at build time (`npm run build`, run by `npm ci`) instead of
 * by webpack in every worker at startup: a worker then starts faster and lives in ~50 MB less
 * memory. The bundle sits next to the compiled code with a hash of the code it was built from;
 * a missing or stale one (running from source, dist recompiled by tsc alone) is not used, and
 * the worker bundles at startup as before.
 */
const BUNDLE = path.join(__dirname, '..', 'workflow-bundle.js');
const STAMP = `${BUNDLE}.sha256`;

/** Hash of every compiled module under this directory (the bundle's inputs are among them). */
function codeHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|ts)$/.test(e.name) && !e.name.endsWith('.d.ts')) h.update(e.name).update(readFileSync(p));
    }
  };
  walk(__dirname);
  return h.digest('hex');
}

export function prebuiltWorkflowBundle(): WorkflowBundlePath | undefined {
  if (!existsSync(BUNDLE) || !existsSync(STAMP)) return undefined;
  if (readFileSync(STAMP, 'utf8').trim() !== codeHash()) return undefined;
  return { codePath: BUNDLE };
}

export async function buildWorkflowBundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('WARN') });
  writeFileSync(BUNDLE, code);
  writeFileSync(STAMP, `${codeHash()}\n`);
  return BUNDLE;
}

if (require.main === module) {
  buildWorkflowBundle().then(
    (file) => console.log(`workflow bundle: ${path.relative(process.cwd(), file)}`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
