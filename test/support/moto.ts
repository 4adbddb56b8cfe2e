import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface MotoServer {
  /** http://127.0.0.1:<port>: set it as AWS_ENDPOINT_URL_S3. */
  endpoint: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/**
 * Starts moto's S3-compatible HTTP server (`python3 -m moto.server`, installed by
 * scripts/infra/install-moto.sh; MOTO_PYTHON names the interpreter) on a free 127.0.0.1 port and
 * waits until it answers. `auth: true` makes it check every request's access key against its own
 * IAM (INITIAL_NO_AUTH_ACTION_COUNT=0), so any key the tests make up is refused.
 */
export async function startMoto(opts: { auth?: boolean } = {}): Promise<MotoServer> {
  const port = await freePort();
  const python = process.env.MOTO_PYTHON ?? 'python3';
  const env = { ...process.env, ...(opts.auth && { INITIAL_NO_AUTH_ACTION_COUNT: '0' }) };
  const child: ChildProcess = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto server exited (${child.exitCode}); run scripts/infra/install-moto.sh. stderr: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return { endpoint, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`moto server did not answer on ${endpoint} within 30 s; stderr: ${stderr}`);
      }
      await sleep(100);
    }
  }
}

/** Object GETs (reads) in a proxy log of S3 path-style requests, as opposed to listings. */
export function objectReads(log: ReadonlyArray<{ method: string; path: string }>, bucket: string): number {
  return log.filter((r) => r.method === 'GET' && r.path.startsWith(`/${bucket}/`) && r.path.length > bucket.length + 2 && !r.path.includes('list-type=')).length;
}
