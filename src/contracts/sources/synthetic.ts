/** A generated corpus for benchmarks and scale tests. */
export interface SyntheticSourceSpec {
  kind: 'synthetic';
  documents: number;
  tokensPerDocument?: number;
  seed?: number;
  revision?: number;
}
