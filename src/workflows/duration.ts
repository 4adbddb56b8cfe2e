import { ApplicationFailure } from '@temporalio/common';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "30s", "15m", "1h", "2d", "500ms" or a bare number of seconds, in milliseconds; anything else is a ConfigError. */
export function parseDurationMs(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(s.trim());
  if (!m) throw ApplicationFailure.nonRetryable(`autoRetryEvery must look like 30s, 15m, 1h or 0, got ${JSON.stringify(s)}`, 'ConfigError');
  return Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS];
}
