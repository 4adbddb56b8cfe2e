import { ConfigError } from '../errors';
import type { SourceSpec } from '../contracts/ingest';
import { DirectorySource } from './directory';
import { SyntheticSource } from './synthetic';
import type { Source } from './types';

export function openSource(spec: SourceSpec): Source {
  switch (spec?.kind) {
    case 'directory':
      if (typeof spec.path !== 'string' || spec.path.length === 0) {
        throw new ConfigError('source.path is required for a directory source');
      }
      return new DirectorySource(spec.path);
    case 'synthetic':
      if (!Number.isInteger(spec.documents) || spec.documents < 0) {
        throw new ConfigError('source.documents must be a non-negative integer for a synthetic source');
      }
      return new SyntheticSource(spec.documents, spec.tokensPerDocument, spec.seed, spec.revision);
    default:
      throw new ConfigError(
        `unknown source kind ${JSON.stringify((spec as { kind?: unknown })?.kind)}; expected "directory" or "synthetic"`,
      );
  }
}

export type { Source, SourceItem, SourcePage } from './types';
