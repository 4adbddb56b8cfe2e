import { code } from './code';
import { docx } from './docx';
import { html } from './html';
import { markdown } from './markdown';
import { pdf } from './pdf';
import { text } from './text';
import type { Format } from './types';

/** Every format the pipeline reads; a new format is one file in this folder and one line here. */
export const FORMATS: readonly Format[] = [
  markdown,
  html,
  text,
  pdf,
  docx,
  code,
];

const BY_EXTENSION = new Map<string, Format>();
const BY_NAME = new Map<string, Format>();
for (const f of FORMATS) {
  BY_NAME.set(f.name, f);
  for (const ext of f.extensions) {
    if (BY_EXTENSION.has(ext)) throw new Error(`extension ${ext} is claimed by two formats: ${BY_EXTENSION.get(ext)!.name} and ${f.name}`);
    BY_EXTENSION.set(ext, f);
  }
}

/** The format of a file by its extension (case-insensitive), or undefined if none reads it. */
export function formatForPath(path: string): Format | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot < 0) return undefined;
  return BY_EXTENSION.get(base.slice(dot).toLowerCase());
}

export function formatByName(name: string): Format | undefined {
  return BY_NAME.get(name);
}

/** Extensions a directory source picks up by default. */
export const SUPPORTED_EXTENSIONS: readonly string[] = [...BY_EXTENSION.keys()];

export type { ExtractContext, Extracted, Format, FormatLimits, Section } from './types';
export { DEFAULT_FORMAT_LIMITS } from './types';
