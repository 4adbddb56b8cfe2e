import { unit, xorshift32 } from '../prng';
import type { FaultAnswer } from './embedding-server';

/**
 * A reproducible chaos mix for the embeddings server: each request draws from a seeded PRNG and
 * gets a 429, a 500, a 503, a malformed body or an extra delay with the given probabilities.
 * Same seed, same sequence of outcomes.
 */
export interface ChaosMix {
  seed: number;
  rateLimited?: number;
  serverError?: number;
  unavailable?: number;
  malformed?: number;
  /** Probability of an extra delay of up to `slowMs`. */
  slow?: number;
  slowMs?: number;
  /** Seconds to put in Retry-After on 429s. */
  retryAfterSeconds?: number;
}

export function chaos(mix: ChaosMix): () => FaultAnswer {
  const next = unit(xorshift32(mix.seed));
  return () => {
    const r = next();
    let edge = 0;
    if (r < (edge += mix.rateLimited ?? 0)) return { status: 429, headers: { 'retry-after': String(mix.retryAfterSeconds ?? 1) } };
    if (r < (edge += mix.serverError ?? 0)) return { status: 500 };
    if (r < (edge += mix.unavailable ?? 0)) return { status: 503 };
    if (r < (edge += mix.malformed ?? 0)) return { malformed: true };
    if (r < (edge += mix.slow ?? 0)) return { delayMs: Math.floor(next() * (mix.slowMs ?? 500)) };
    return undefined;
  };
}
