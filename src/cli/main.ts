// The CLI's entry: parses arguments and dispatches; each command lives in its own file and
// returns its exit status (CONTRACT 4).
import { Command, CommanderError, Option } from 'commander';
import { Exit, processIo, type ExitCode, type Io } from './io.js';
// Commands are imported when they run, so that `decide` does not load the HTTP server.
const validateCommand: typeof import('./validate.js').validateCommand = async (...a) => (await import('./validate.js')).validateCommand(...a);
const testCommand: typeof import('./test.js').testCommand = async (...a) => (await import('./test.js')).testCommand(...a);
const decideCommand: typeof import('./decide.js').decideCommand = async (...a) => (await import('./decide.js')).decideCommand(...a);
const serveCommand: typeof import('./serve.js').serveCommand = async (...a) => (await import('./serve.js')).serveCommand(...a);
const keysAdd: typeof import('./keys.js').keysAdd = async (...a) => (await import('./keys.js')).keysAdd(...a);
const keysList: typeof import('./keys.js').keysList = async (...a) => (await import('./keys.js')).keysList(...a);
const keysRevoke: typeof import('./keys.js').keysRevoke = async (...a) => (await import('./keys.js')).keysRevoke(...a);
const auditVerify: typeof import('./audit.js').auditVerify = async (...a) => (await import('./audit.js')).auditVerify(...a);
const auditMigrate: typeof import('./audit.js').auditMigrate = async (...a) => (await import('./audit.js')).auditMigrate(...a);
const review = (): Promise<typeof import('./review.js')> => import('./review.js');
const verifyReceiptCommand: typeof import('./receipts.js').verifyReceiptCommand = async (...a) => (await import('./receipts.js')).verifyReceiptCommand(...a);
const witnessCommand: typeof import('./witness.js').witnessCommand = async (...a) => (await import('./witness.js')).witnessCommand(...a);
const approvalsGrant: typeof import('./approvals.js').approvalsGrant = async (...a) => (await import('./approvals.js')).approvalsGrant(...a);
const approvalsList: typeof import('./approvals.js').approvalsList = async (...a) => (await import('./approvals.js')).approvalsList(...a);
const approvalsRevoke: typeof import('./approvals.js').approvalsRevoke = async (...a) => (await import('./approvals.js')).approvalsRevoke(...a);
const logKeyInit: typeof import('./log-key.js').logKeyInit = async (...a) => (await import('./log-key.js')).logKeyInit(...a);
const auditExport: typeof import('./review.js').auditExport = async (...a) => (await review()).auditExport(...a);
const auditReplay: typeof import('./review.js').auditReplay = async (...a) => (await review()).auditReplay(...a);
const auditReport: typeof import('./review.js').auditReport = async (...a) => (await review()).auditReport(...a);
const impactCommand: typeof import('./review.js').impactCommand = async (...a) => (await review()).impactCommand(...a);
const matrixCommand: typeof import('./review.js').matrixCommand = async (...a) => (await review()).matrixCommand(...a);
const verifyExport: typeof import('./review.js').verifyExport = async (...a) => (await review()).verifyExport(...a);

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
    .option('--unit <unit>', 'decide as asked from this unit within the partner (the `unit` fact)')
    .option('--function <function>', 'decide as asked by this function within the partner (the `function` fact)')
    .option('--approvals <kinds>', 'decide as if these approval kinds (comma-separated) were in force for the request\'s case')
    .action(async (file: string | undefined, opts) => {
      status = await decideCommand(file, opts, io);
    });

  const dataOption = (cmd: Command): Command =>
    cmd
      .option('--data <dir>', 'data folder: keys, decision log, policy versions (env COVENANT_DATA; default ./data)')
      .option('--database <url>', 'a PostgreSQL database that replicas share, in place of the data folder (env COVENANT_DATABASE_URL)');

  dataOption(folderOptions(program.command('serve').description('serve the decision API (CONTRACT 3) on the rule folders')))
    .option('--port <n>', 'port (env PORT; default 8080)')
    .option('--host <address>', 'address to listen on (env HOST; default 127.0.0.1)')
    .option('--max-skew-seconds <n>', 'how far requestedAt of a decision may lie from the clock (env COVENANT_MAX_SKEW_SECONDS; default 300)')
    .option('--body-limit <bytes>', 'largest request body (env COVENANT_BODY_LIMIT; default 65536)')
    .option('--retention-days <n>', 'prune log entries older than this, keeping the chain verifiable (env COVENANT_RETENTION_DAYS; default: keep all)')
    .option('--refusal-limit <n>', 'refused requests a second a key may cause before it is answered 429 (env COVENANT_REFUSAL_LIMIT; default 20; 0 none)')
    .option('--rate-limit <n>', 'requests a second a key may make (env COVENANT_RATE_LIMIT; default 0: no limit)')
    .option('--max-connections <n>', 'connections held at once (env COVENANT_MAX_CONNECTIONS; default 1000)')
    .option('--log-key <file>', 'the key that signs the log\'s checkpoints, from `covenant log-key init` (env COVENANT_LOG_KEY; default: one made in the data folder, with a warning)')
    .action(async (opts) => {
      status = await serveCommand(opts, io);
    });

  const keys = program.command('keys').description('API keys: add, list, revoke');
  dataOption(folderOptions(keys.command('add').description('create a key and print it once on stdout')))
    .option('--role <role>', 'partner, privacy-officer, auditor or approver')
    .option('--partner <id>', 'for role partner: the partner the key acts for')
    .option('--name <text>', 'a note on whose key this is')
    .option('--unit <unit>', 'who asks within the partner: a unit (e.g. a regional unit), the `unit` fact of its decisions')
    .option('--function <function>', 'who asks within the partner: a function (e.g. screened staff), the `function` fact of its decisions')
    .action(async (opts) => {
      status = await keysAdd(opts, io);
    });
  dataOption(keys.command('list').description('list keys (never the secrets)'))
    .addOption(formatOption())
    .action(async (opts) => {
      status = await keysList(opts, io);
    });
  dataOption(keys.command('revoke').description('revoke a key; a running service honours it within seconds').argument('<id>', 'key id, from `keys list`'))
    .action(async (id: string, opts) => {
      status = await keysRevoke(id, opts, io);
    });

  program
    .command('log-key')
    .description('the key that signs the decision log\'s checkpoints')
    .command('init')
    .description('write a new signing key to FILE (mode 0600) and print its verifier key')
    .argument('<file>', 'where to write the key: keep it apart from the data folder')
    .option('--name <name>', 'the log\'s name in its checkpoints (no spaces or plus signs; default covenant/HOSTNAME)')
    .action(async (file: string, opts) => {
      status = await logKeyInit(file, opts, io);
    });

  program
    .command('witness')
    .description('watch a covenant log from elsewhere: check and cosign each new checkpoint (exit 1 on an inconsistent or unsigned one)')
    .option('--url <url>', 'the service, e.g. https://covenant.example')
    .option('--log-key <vkey>', 'the log\'s verifier key (or a file holding it); pinned on the first run')
    .option('--state <dir>', 'where the witness keeps its key and the checkpoints it accepted')
    .option('--api-key-file <file>', 'an API key of the service, any role (or env COVENANT_API_KEY)')
    .option('--interval <seconds>', 'how often to fetch (default 10)')
    .option('--name <name>', 'the witness\'s name in its cosignatures, on the first run (default witness/HOSTNAME)')
    .option('--once', 'fetch and judge one checkpoint, then exit (exit 3 when the log could not be reached)')
    .action(async (opts) => {
      status = await witnessCommand(opts, io);
    });

  const approvals = program.command('approvals').description('prior approvals for a case (e.g. the competent authority\'s consent): grant, list, revoke, through the service');
  const serviceOptions = (cmd: Command): Command =>
    cmd.option('--url <url>', 'the service that keeps the register, e.g. https://covenant.example').option('--api-key-file <file>', 'an API key of the service (or env COVENANT_API_KEY); role approver to grant or revoke');
  serviceOptions(approvals.command('grant').description('grant an approval of a kind the covenant defines, for a case and a period; prints it'))
    .option('--kind <kind>', 'the approval kind, as the covenant\'s `approvals` defines it')
    .option('--case <reference>', 'the case reference that requests name as caseReference')
    .option('--until <iso>', 'the last instant of an exchange it covers')
    .option('--from <iso>', 'the first instant of an exchange it covers (default now)')
    .option('--note <text>', 'e.g. the reference of the approving act; recorded in the log')
    .action(async (opts) => {
      status = await approvalsGrant(opts, io);
    });
  serviceOptions(approvals.command('list').description('the approvals registered, newest first'))
    .option('--case <reference>', 'only those for this case')
    .option('--kind <kind>', 'only those of this kind')
    .option('--format <format>', 'text (default) or json')
    .action(async (opts) => {
      status = await approvalsList(opts, io);
    });
  serviceOptions(approvals.command('revoke').description('revoke an approval: decisions from now on no longer rely on it').argument('<id>', 'approval id, from `approvals list`')).action(async (id: string, opts) => {
    status = await approvalsRevoke(id, opts, io);
  });

  const audit = program.command('audit').description('the decision log: verify, export, report, replay');
  const choice = (name: string, values: string[], fallback: string): Option => new Option(`--format <format>`, name).choices(values).default(fallback);
  const period = (cmd: Command): Command => cmd.option('--from <iso>', 'start of the period (date or date-time)').option('--to <iso>', 'end of the period (date or date-time)');
  dataOption(audit.command('verify').description('check offline that the log (or an export) is complete and unaltered (exit 0 intact, 1 not)'))
    .addOption(formatOption())
    .option('--export <file>', 'check an NDJSON export on its own instead of the log')
    .option('--digest <file>', 'with --export: the digest written by `audit export --digest`')
    .option('--receipts <file>', 'also check the log against receipts partners hold (a JSON array or NDJSON of receipts or answers)')
    .option('--witness <dir>', 'also check the log against the checkpoints a witness accepted (its --state folder)')
    .option('--log-key <vkey>', 'the pinned verifier key for --receipts (or a file holding it; default: the witness\'s)')
    .action(async (opts) => {
      status = opts.export ? await verifyExport(opts.export, opts.digest, io) : await auditVerify(opts, io);
    });
  dataOption(audit.command('migrate').description('copy the data folder\'s log, keys, approvals and policy archive into an empty PostgreSQL database (--database), then verify the copy (exit 0 copied and verified, 1 the copy does not verify, 2 refused)'))
    .option('--log-key <file>', 'the key the folder\'s log was signed with (env COVENANT_LOG_KEY; default: the one in the data folder)')
    .addOption(formatOption())
    .action(async (opts) => {
      status = await auditMigrate(opts, io);
    });
  audit
    .command('verify-receipt')
    .description('check receipts offline against the log\'s verifier key (exit 0 all valid, 1 not)')
    .argument('<files...>', 'files each holding one receipt as JSON, or the answer that carried it')
    .option('--log-key <vkey>', 'the verifier key (name+keyid+key), or a file holding it')
    .addOption(formatOption())
    .action(async (files: string[], opts) => {
      status = await verifyReceiptCommand(files, opts, io);
    });
  dataOption(period(audit.command('export').description('the log entries of every kind in the period, oldest first, streamed')))
    .addOption(choice('output format', ['ndjson', 'csv'], 'ndjson'))
    .option('--digest <file>', 'also write the digest that ties the export to the hash chain')
    .action(async (opts) => {
      status = await auditExport(opts, io);
    });
  dataOption(folderOptions(period(audit.command('report').description('the privacy-review report for the period; names from the rule folders when they are valid'))))
    .addOption(choice('output format', ['json', 'html'], 'json'))
    .action(async (opts) => {
      status = await auditReport(opts, io);
    });
  dataOption(folderOptions(audit.command('replay').description('re-evaluate a recorded decision under its own version and the current one (exit 1 when not reproduced)').argument('<id>', 'decision id')))
    .addOption(formatOption())
    .action(async (id: string, opts) => {
      status = await auditReplay(id, opts, io);
    });

  dataOption(period(folderOptions(program.command('impact').description('which logged decisions the rule files in --policies/--rules would flip'))))
    .addOption(formatOption())
    .action(async (opts) => {
      status = await impactCommand(opts, io);
    });
  folderOptions(program.command('matrix').description('who may share which category with whom at a date'))
    .option('--at <date>', 'date or date-time (default now)')
    .addOption(choice('output format', ['md', 'csv', 'html', 'json'], 'md'))
    .action(async (opts) => {
      status = await matrixCommand(opts, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are not errors; anything else commander rejects is a bad argument.
      return e.exitCode === 0 ? Exit.ok : Exit.invalid;
    }
    // What stopped a command from running (a database that refuses the role, a folder it may not
    // read) is said in a line, without the stack: COVENANT_DEBUG=1 shows that.
    const message = e instanceof Error ? e.message : String(e);
    io.stderr(`error: ${message}\n${io.env.COVENANT_DEBUG === '1' && e instanceof Error ? `${e.stack}\n` : ''}`);
    return Exit.invalid;
  }
  return status;
}
