import { execFile } from 'node:child_process';

export interface GitRun {
  stdout: Buffer;
  stderr: string;
}

/** A git command failed; `stderr` is git's own explanation (credentials never appear in it). */
export class GitCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
    readonly code: number | string | null,
  ) {
    super(`git ${args[0] ?? ''} failed: ${firstLines(stderr) || `exit ${code}`}`);
    this.name = 'GitCommandError';
  }
}

export function firstLines(s: string, n = 3): string {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('hint:'))
    .slice(0, n)
    .join(' / ');
}

/**
 * Runs git with arguments (never through a shell) and the worker's environment plus `env`.
 * Git never prompts (GIT_TERMINAL_PROMPT=0): missing credentials fail instead of hanging.
 */
export function git(args: string[], opts: { cwd?: string; env?: Record<string, string>; maxBuffer?: number; timeoutMs?: number } = {}): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd: opts.cwd,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: process.env.GIT_ASKPASS ?? '', LC_ALL: 'C', ...opts.env },
        encoding: 'buffer',
        maxBuffer: opts.maxBuffer ?? 256 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 10 * 60_000,
        windowsHide: true,
      },
      (err, stdout, stderr) => {
        const errText = stderr.toString('utf8');
        if (err) {
          const e = err as NodeJS.ErrnoException & { code?: number | string };
          if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return reject(e);
          if (e.code === 'ENOENT') return reject(new Error('git is not installed on the worker (the git source runs the git CLI)'));
          return reject(new GitCommandError(args, errText, e.code ?? null));
        }
        resolve({ stdout, stderr: errText });
      },
    );
  });
}

export type GitProblem = 'auth' | 'missing-ref' | 'missing-repo' | 'unreachable' | 'other';

/** What a failed fetch means, from git's message (git has no structured error codes). */
export function classifyGitError(stderr: string): GitProblem {
  const s = stderr.toLowerCase();
  if (/authentication failed|could not read username|could not read password|permission denied \(publickey|http (basic: )?access denied|returned error: 40[13]|403 forbidden|terminal prompts disabled/.test(s)) return 'auth';
  if (/couldn't find remote ref|no such ref|not our ref|unknown revision|invalid object name|needed a single revision|bad revision/.test(s)) return 'missing-ref';
  if (/does not appear to be a git repository|repository .* not found|not found|no such file or directory/.test(s)) return 'missing-repo';
  if (/could not resolve host|failed to connect|connection refused|connection timed out|network is unreachable|couldn't connect|operation timed out|empty reply/.test(s)) return 'unreachable';
  return 'other';
}
