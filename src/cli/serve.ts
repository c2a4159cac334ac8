// `covenant serve [--port N] [--data DIR | --database URL]`: the service (CONTRACT 3), until SIGTERM or SIGINT.
import { startServer } from '../server.js';
import { Exit, type ExitCode, type Io } from './io.js';
import { databaseOf, dataDir, folders, type FolderFlags } from './options.js';
import { renderDiagnostics } from './render.js';

export interface ServeFlags extends FolderFlags {
  port?: string;
  host?: string;
  data?: string;
  database?: string;
  maxSkewSeconds?: string;
  bodyLimit?: string;
  retentionDays?: string;
  logKey?: string;
  maxConnections?: string;
  refusalLimit?: string;
  rateLimit?: string;
}

/** Configuration from flags, then environment, then defaults; checked before anything starts. */
export function serveConfig(flags: ServeFlags, io: Io): { ok: true; value: Parameters<typeof startServer>[0] } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const int = (label: string, text: string | undefined, fallback: number, min: number, max: number): number => {
    if (text === undefined || text === '') return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) errors.push(`${label} must be a whole number from ${min} to ${max}, not \`${text}\``);
    return n;
  };
  const port = int('--port (or PORT)', flags.port ?? io.env.PORT, 8080, 0, 65535);
  const skew = int('--max-skew-seconds (or COVENANT_MAX_SKEW_SECONDS)', flags.maxSkewSeconds ?? io.env.COVENANT_MAX_SKEW_SECONDS, 300, 0, 86_400);
  const body = int('--body-limit (or COVENANT_BODY_LIMIT)', flags.bodyLimit ?? io.env.COVENANT_BODY_LIMIT, 64 * 1024, 1024, 16 << 20);
  const retentionText = flags.retentionDays ?? io.env.COVENANT_RETENTION_DAYS;
  const retention = retentionText === undefined || retentionText === '' ? undefined : int('--retention-days (or COVENANT_RETENTION_DAYS)', retentionText, 0, 1, 36_500);
  const maxConnections = int('--max-connections (or COVENANT_MAX_CONNECTIONS)', flags.maxConnections ?? io.env.COVENANT_MAX_CONNECTIONS, 1000, 1, 1_000_000);
  const refusalsPerSecond = int('--refusal-limit (or COVENANT_REFUSAL_LIMIT)', flags.refusalLimit ?? io.env.COVENANT_REFUSAL_LIMIT, 20, 0, 1_000_000);
  const requestsPerSecond = int('--rate-limit (or COVENANT_RATE_LIMIT)', flags.rateLimit ?? io.env.COVENANT_RATE_LIMIT, 0, 0, 1_000_000);
  const host = flags.host ?? io.env.HOST ?? '127.0.0.1';
  const logKey = flags.logKey ?? (io.env.COVENANT_LOG_KEY || undefined);
  const database = databaseOf(flags, io);
  if (database && !/^postgres(ql)?:\/\//.test(database.url)) errors.push('--database (or COVENANT_DATABASE_URL) must be a postgres:// or postgresql:// URL');
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      folders: folders(flags, io),
      dataDir: dataDir(flags, io),
      ...(database && { database }),
      port,
      host,
      maxSkewMs: skew * 1000,
      bodyLimitBytes: body,
      ...(retention !== undefined && { retentionDays: retention }),
      ...(logKey !== undefined && { logKey }),
      maxConnections,
      throttle: { refusalsPerSecond, requestsPerSecond },
      // from the environment only: a secret on the command line shows in the process list
      ...(io.env.COVENANT_METRICS_KEY ? { metricsKey: io.env.COVENANT_METRICS_KEY } : {}),
      // undocumented on purpose: answers without receipts break the contract; the bench compares
      ...(io.env.COVENANT_BENCH_WITHOUT_RECEIPTS === '1' && { receipts: false }),
      ...(io.env.COVENANT_BENCH_RELOAD_ON_SERVICE_THREAD === '1' && { compileOnServiceThread: true }),
    },
  };
}

export async function serveCommand(flags: ServeFlags, io: Io): Promise<ExitCode> {
  const config = serveConfig(flags, io);
  if (!config.ok) {
    io.stderr(config.errors.map((e) => `error: ${e}\n`).join(''));
    return Exit.invalid;
  }
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer(config.value);
  } catch (e) {
    io.stderr(`error: cannot start: ${(e as Error).message}\n`);
    return Exit.failed;
  }
  if (!('url' in running)) {
    io.stderr(renderDiagnostics(running.diagnostics.filter((d) => d.severity === 'error')));
    io.stderr('error: the rule files are invalid; nothing to serve\n');
    return Exit.failed;
  }
  const server = running;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      void server.close().then(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return Exit.ok;
}
