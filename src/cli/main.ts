// The CLI's entry: parses arguments and dispatches; each command lives in its own file and
// returns its exit status (CONTRACT 4).
import { Command, CommanderError, Option } from 'commander';
import { Exit, processIo, type ExitCode, type Io } from './io.js';
import { validateCommand } from './validate.js';
import { testCommand } from './test.js';
import { decideCommand } from './decide.js';

const folderOptions = (cmd: Command): Command =>
  cmd
    .option('--policies <dir>', 'folder of policy files (env COVENANT_POLICIES; default ./policies)')
    .option('--rules <dir>', 'folder of rule files (env COVENANT_RULES; default ./rules)');

const formatOption = (): Option => new Option('--format <format>', 'output format').choices(['text', 'json']).default('text');

export async function main(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  let status: ExitCode = Exit.ok;
  const program = new Command('covenant')
    .description('Decides whether the data-sharing covenant allows a proposed exchange, and records every decision.')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');

  folderOptions(program.command('validate').description('check the rule files; prints errors and warnings (exit 0 valid, 1 invalid)'))
    .addOption(formatOption())
    .action(async (opts) => {
      status = await validateCommand(opts, io);
    });

  folderOptions(
    program
      .command('test')
      .description('run policy tests (default: the *.test.yaml/json files under the policies and rules folders)')
      .argument('[paths...]', 'test files or folders'),
  )
    .addOption(formatOption())
    .action(async (paths: string[], opts) => {
      status = await testCommand(paths, opts, io);
    });

  folderOptions(
    program
      .command('decide')
      .description('one decision from a request file or stdin, as JSON on stdout (exit 0 decided, 2 invalid request, 1 invalid rule files)')
      .argument('[file]', 'request file (JSON or YAML); `-` or none reads stdin'),
  )
    .option('--at <iso>', 'time of the exchange when the request names no requestedAt')
    .action(async (file: string | undefined, opts) => {
      status = await decideCommand(file, opts, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are not errors; anything else commander rejects is a bad argument.
      return e.exitCode === 0 ? Exit.ok : Exit.invalid;
    }
    throw e;
  }
  return status;
}
