import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The package version, found from either src/ (tsx) or dist/src/ (compiled). */
export function packageVersion(): string {
  for (let dir = __dirname, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const p = path.join(dir, 'package.json');
    if (existsSync(p)) return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
}
