import { Command, CommanderError } from 'commander';
import { ENV_DOC } from './config';
import { packageVersion } from './version';
import { ConfigError } from './errors';
import { devCommand } from './cli/dev';
import { EXIT } from './cli/common';
import { ingestCommand } from './cli/ingest';
import { statusCommand } from './cli/status';
import { failuresCommand, replayCommand } from './cli/failures';
import { scheduleCommand } from './cli/schedule';
import { searchCommand } from './cli/search';
import { setupCommand } from './cli/setup';
import { cacheCommand } from './cli/cache';
import { generationsCommand } from './cli/generations';
import { workerCommand } from './cli/worker';
import { watchCommand } from './cli/watch';

export function buildProgram(): Command {
  const program = new Command('vector-ingest')
    .description('Durable embedding ingestion on Temporal: document collections into Postgres+pgvector')
    .version(packageVersion())
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(ingestCommand());
  program.addCommand(watchCommand());
  program.addCommand(workerCommand());
  program.addCommand(devCommand());
  program.addCommand(statusCommand());
  program.addCommand(failuresCommand());
  program.addCommand(replayCommand());
  program.addCommand(scheduleCommand());
  program.addCommand(searchCommand());
  program.addCommand(setupCommand());
  program.addCommand(cacheCommand());
  program.addCommand(generationsCommand());
  const override = (c: Command) => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  program.commands.forEach(override);
  const width = Math.max(...ENV_DOC.map(([k]) => k.length));
  program.addHelpText('after', `\nEnvironment (flags override):\n${ENV_DOC.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`);
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (err instanceof ConfigError || err instanceof RangeError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = EXIT.failed;
  }
}

if (require.main === module) void main();
