import type { Pool } from 'pg';
import { STATE_SCHEMA as S } from './schema';
import type { RateUnit } from '../embedders/rate-limited';

/**
 * A provider's rate limit shared by every worker process, kept where they all meet: one row per
 * (provider key, unit) in Postgres, a token bucket updated atomically. Each request reserves its
 * cost (1 request, n tokens) in one UPDATE that also refills the bucket by the time passed, and
 * is told how long to wait; the bucket may go into debt, so concurrent reservations queue up
 * behind each other in the order the rows were locked, whichever process made them. Time is the
 * database's clock (`clock_timestamp()`), so hosts whose clocks differ still agree.
 *
 * A bucket spends `share` of the limit per minute (default 97 %) and holds at most `burst`
 * (1 request; for tokens, nothing beyond the request being paid for). A request is sent only
 * once it is paid for, so any window of a minute carries at most burst + share × limit: under
 * a provider's sliding window that leaves room for clock and network jitter.
 */
export const RATE_BUCKETS_MIGRATION = `
CREATE TABLE IF NOT EXISTS ${S}.rate_buckets (
  key         text NOT NULL,
  unit        text NOT NULL CHECK (unit IN ('requests', 'tokens')),
  per_minute  double precision NOT NULL CHECK (per_minute > 0),
  rate_per_ms double precision NOT NULL CHECK (rate_per_ms > 0),
  burst       double precision NOT NULL,
  balance     double precision NOT NULL,
  at          timestamptz NOT NULL,
  PRIMARY KEY (key, unit)
);
`;


export interface BucketLimit {
  /** The limit per minute. */
  perMinute: number;
  /** What the provider says is left of it now: the bucket starts in debt by what is used. */
  remaining?: number;
}

export interface Reservation {
  /** How long to wait before sending (0: now). */
  waitMs: number;
  /** Gives the reservation back (the request was not sent). */
  cancel(): Promise<void>;
}

export const DEFAULT_SHARE = 0.97;

export class RateBuckets {
  constructor(
    private readonly pool: Pool,
    private readonly share = DEFAULT_SHARE,
  ) {}

  private burstOf(unit: RateUnit): number {
    return unit === 'requests' ? 1 : 0;
  }

  /**
   * Sets a unit's limit. A row that already has this limit keeps its balance (another process
   * set it, and its reservations stand); a new row, or one whose limit changed, starts with the
   * burst less what the provider says is already used of it, and never with more than it had.
   */
  async setLimit(key: string, unit: RateUnit, limit: BucketLimit): Promise<void> {
    const burst = this.burstOf(unit);
    const used = limit.remaining === undefined ? 0 : Math.max(0, limit.perMinute - limit.remaining);
    await this.pool.query(
      `INSERT INTO ${S}.rate_buckets AS b (key, unit, per_minute, rate_per_ms, burst, balance, at)
       VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp())
       ON CONFLICT (key, unit) DO UPDATE SET
         per_minute = EXCLUDED.per_minute, rate_per_ms = EXCLUDED.rate_per_ms, burst = EXCLUDED.burst,
         balance = LEAST(b.balance, EXCLUDED.balance)
       WHERE b.per_minute <> EXCLUDED.per_minute`,
      [key, unit, limit.perMinute, (this.share * limit.perMinute) / 60_000, burst, burst - used],
    );
  }

  /** The limits per minute recorded for `key` (none: not limited). */
  async limits(key: string): Promise<Partial<Record<RateUnit, number>>> {
    const r = await this.pool.query<{ unit: RateUnit; per_minute: number }>(`SELECT unit, per_minute FROM ${S}.rate_buckets WHERE key = $1`, [key]);
    return Object.fromEntries(r.rows.map((row) => [row.unit, row.per_minute]));
  }

  /** Reserves one request of `tokens` tokens; the wait is that of the unit that needs the longest. */
  async reserve(key: string, tokens: number): Promise<Reservation> {
    const r = await this.pool.query<{ unit: RateUnit; balance: number; rate_per_ms: number }>(
      `UPDATE ${S}.rate_buckets SET
         balance = LEAST(burst, balance + rate_per_ms * GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp() - at) * 1000))
                   - CASE unit WHEN 'requests' THEN 1 ELSE $2::double precision END,
         at = clock_timestamp()
       WHERE key = $1
       RETURNING unit, balance, rate_per_ms`,
      [key, tokens],
    );
    const waitMs = Math.max(0, ...r.rows.map((row) => (row.balance < 0 ? -row.balance / row.rate_per_ms : 0)));
    return {
      waitMs,
      cancel: async () => {
        if (r.rows.length === 0) return;
        await this.pool.query(
          `UPDATE ${S}.rate_buckets SET balance = balance + CASE unit WHEN 'requests' THEN 1 ELSE $2::double precision END WHERE key = $1`,
          [key, tokens],
        );
      },
    };
  }

  /** The provider said "wait `ms`" (a 429): nobody's next request goes before then. */
  async holdOff(key: string, ms: number): Promise<void> {
    await this.pool.query(
      `UPDATE ${S}.rate_buckets SET
         balance = LEAST(LEAST(burst, balance + rate_per_ms * GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp() - at) * 1000)),
                         -rate_per_ms * $2::double precision),
         at = clock_timestamp()
       WHERE key = $1`,
      [key, ms],
    );
  }
}
