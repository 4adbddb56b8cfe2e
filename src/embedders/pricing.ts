import { ConfigError } from '../errors';

/**
 * What embedding costs, in US dollars per million input tokens, by model. The defaults are the
 * providers' list prices when this table was written (OpenAI, 2024–2026); a contract price, another
 * provider, or a price change is set without a release:
 *   VECTOR_INGEST_PRICE_PER_MTOK=0.018                     the configured model's price
 *   VECTOR_INGEST_PRICES='{"my-model":0.05,"text-embedding-3-small":0.01}'   any models
 * The first wins over the second, which wins over this table. Models that run on the worker
 * (the local model, the offline embedder) cost nothing. A model in none of them has no known
 * price: its cost is reported as 0 and marked unpriced, never guessed.
 */
export const DEFAULT_PRICES_PER_MTOK: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 0.02,
  'text-embedding-3-large': 0.13,
  'text-embedding-ada-002': 0.1,
};

export interface Price {
  /** US dollars per million tokens. */
  perMTok: number;
  /** Where the price came from. */
  source: 'setting' | 'table' | 'local' | 'unknown';
}

export interface PriceSettings {
  /** VECTOR_INGEST_PRICE_PER_MTOK: the configured model's price. */
  pricePerMTok?: number;
  /** VECTOR_INGEST_PRICES, parsed: prices by model. */
  prices?: Record<string, number>;
}

/** Parses VECTOR_INGEST_PRICES: a JSON object of model name → dollars per million tokens (>= 0). */
export function parsePrices(json: string, name = 'VECTOR_INGEST_PRICES'): Record<string, number> {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (err) {
    throw new ConfigError(`${name} is not JSON (${(err as Error).message}); expected e.g. {"text-embedding-3-small":0.02}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ConfigError(`${name} must be a JSON object of model name to dollars per million tokens, e.g. {"text-embedding-3-small":0.02}`);
  }
  const out: Record<string, number> = {};
  for (const [model, p] of Object.entries(v)) {
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0) {
      throw new ConfigError(`${name}: the price of ${JSON.stringify(model)} must be a number of dollars per million tokens >= 0, got ${JSON.stringify(p)}`);
    }
    out[model] = p;
  }
  return out;
}

/**
 * The price of `model` for an embedder of `provider`. `configuredModel` is the model the
 * settings' single price applies to (the worker's own).
 */
export function priceOf(
  model: string,
  provider: 'openai' | 'local' | 'offline',
  settings: PriceSettings = {},
  configuredModel: string = model,
): Price {
  if (settings.pricePerMTok !== undefined && model === configuredModel) return { perMTok: settings.pricePerMTok, source: 'setting' };
  const set = settings.prices?.[model];
  if (set !== undefined) return { perMTok: set, source: 'setting' };
  if (provider !== 'openai') return { perMTok: 0, source: 'local' };
  const listed = DEFAULT_PRICES_PER_MTOK[model];
  if (listed !== undefined) return { perMTok: listed, source: 'table' };
  return { perMTok: 0, source: 'unknown' };
}

/** Dollars for `tokens` at `price`. */
export function costUsd(tokens: number, price: Pick<Price, 'perMTok'>): number {
  return (tokens * price.perMTok) / 1e6;
}

/** "$0.001234" style: enough digits for small runs, no float noise. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(6).replace(/0+$/, '')}`;
}
