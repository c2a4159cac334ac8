// The one composition root: picks the implementations and wires them together.
import { serve as serveHttp, type ServerType } from '@hono/node-server';
import { pino, type Logger } from 'pino';
import { dataFolderKey, loadLogKey } from './audit/log-key.js';
import { CompileProcess } from './loader/compile-process.js';
import { PolicySource } from './loader/policy-source.js';
import type { Folders } from './loader/files.js';
import type { Diagnostic } from './domain/types.js';
import { createApp } from './http/app.js';
import { createMetrics } from './http/metrics.js';
import { answerClientError } from './http/client-error.js';
import { DEFAULT_THROTTLE, Throttle, type ThrottleOptions } from './http/throttle.js';
import { ReviewThread } from './service/review-thread.js';
import { openStorage, type DatabaseConfig, type Storage } from './storage.js';
import type { NoteSigner } from './audit/note.js';

export interface ServeConfig {
  readonly folders: Folders;
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  readonly maxSkewMs: number;
  readonly bodyLimitBytes: number;
  /** log entries older than this are pruned (whole segments), keeping the chain verifiable */
  readonly retentionDays?: number;
  /** a PostgreSQL database that replicas share; absent: the log and its state are in the data folder */
  readonly database?: DatabaseConfig;
  /** the file of the key that signs the log's checkpoints; absent: one in the data folder */
  readonly logKey?: string;
  /** false: no Merkle tree and no receipts; only `npm run bench:http` sets it, to measure what they cost */
  readonly receipts?: boolean;
  /** true: reloads compile on the service's thread, as they once did; only `npm run bench:reload` sets it */
  readonly compileOnServiceThread?: boolean;
  /** connections held at once; more wait in the kernel's backlog, then are refused */
  readonly maxConnections?: number;
  /** a secret that GET /metrics then requires (Bearer); absent: /metrics is open */
  readonly metricsKey?: string;
  /** how long a console session lasts (default 8 hours) */
  readonly consoleSessionSeconds?: number;
  /** per-key limits: refusals a second before a key is answered 429 (default 20), requests a second (default none) */
  readonly throttle?: ThrottleOptions;
  readonly logger?: Logger;
}

export interface Running {
  readonly url: string;
  readonly policyVersion: string;
  close(): Promise<void>;
}

export { dataPaths } from './data-paths.js';

export async function startServer(config: ServeConfig): Promise<Running | { diagnostics: readonly Diagnostic[] }> {
  // Asynchronous: a log line must not hold up an answer; flushed on close. Written as it comes
  // (no minLength): routine requests log at debug, so what is written is news, and a buffer of
  // 4 KiB had held warnings back for minutes at low traffic.
  const logger = config.logger ?? pino({ name: 'covenant', level: process.env.COVENANT_LOG_LEVEL ?? 'info' }, pino.destination({ dest: 1, sync: false }));
  const now = (): number => Date.now();
  const metrics = createMetrics({ defaults: true });

  const key = config.logKey !== undefined ? await loadLogKey(config.logKey) : await dataFolderKey(config.dataDir);
  if (!key.ok) throw new Error(key.reason);
  for (const warning of key.warnings) logger.warn(warning);
  const signer = key.signer;
  const receipts = config.receipts !== false;
  const storage = await openStorage({
    dataDir: config.dataDir,
    ...(config.database && { database: config.database }),
    signer,
    receipts,
    logger,
    onWrite: (seconds) => metrics.appendSeconds.observe(seconds),
  });
  try {
    return await startWith(config, storage, { logger, now, metrics, signer, receipts });
  } catch (e) {
    await storage.close();
    throw e;
  }
}

async function startWith(
  config: ServeConfig,
  storage: Storage,
  { logger, now, metrics, signer, receipts }: { logger: Logger; now: () => number; metrics: ReturnType<typeof createMetrics>; signer: NoteSigner; receipts: boolean },
): Promise<Running | { diagnostics: readonly Diagnostic[] }> {
  const { log, keys, archive, approvals } = storage;
  let started = false;
  const compiler = new CompileProcess(undefined, (reason) => logger.warn({ reason }, 'compiling reloads on the service thread: no process of their own could start'));
  const source = await PolicySource.start(config.folders, {
    now,
    ...(!config.compileOnServiceThread && { compile: compiler.compile }),
    // INVARIANT: a version is archived and its going live recorded before any decision under it.
    onVersion: async (v) => {
      await archive.putText(v.covenant.policyVersion, v.files.map((f) => f.name), v.loadedAt, v.archive);
      const at = now();
      await log.append({
        kind: 'policy',
        id: log.newId(at),
        at: new Date(at).toISOString(),
        policyVersion: v.covenant.policyVersion,
        files: v.files.map((f) => ({ name: f.name, sha256: f.sha256 })),
        cause: started ? 'reload' : 'start',
      });
    },
    onReload: (result, detail) => {
      metrics.reloads.inc({ result });
      if ('covenant' in detail) logger.info({ policyVersion: detail.covenant.policyVersion }, 'policy reloaded');
      else logger.error({ errors: detail.diagnostics.filter((d) => d.severity === 'error').slice(0, 20) }, 'changed rule files are invalid; still serving the last valid version');
    },
  });
  if (!(source instanceof PolicySource)) {
    await compiler.close();
    await storage.close();
    return source;
  }
  started = true;
  compiler.start();
  source.watch();
  if (keys.list().length === 0) logger.warn('no API keys yet: create one with `covenant keys add --role partner --partner ID`');
  // What other processes change (`covenant keys`, other replicas) is seen within a second or so.
  const keyPoll = setInterval(() => void storage.refresh().catch(() => undefined), 1000);
  keyPoll.unref();
  // Retention runs at start and hourly; a failure is logged and tried again the next hour.
  const prune = async (): Promise<void> => {
    if (config.retentionDays === undefined) return;
    try {
      const r = await storage.prune(now() - config.retentionDays * 86_400_000);
      if (r.entries > 0) logger.info({ ...r, retentionDays: config.retentionDays }, 'pruned log entries past retention');
    } catch (e) {
      logger.error({ err: { message: (e as Error).message } }, 'pruning failed');
    }
  };
  await prune();
  const pruneTimer = setInterval(() => void prune(), 3_600_000);
  pruneTimer.unref();

  const throttle = new Throttle(config.throttle ?? DEFAULT_THROTTLE, log, now);
  const review = new ReviewThread(log, storage.place, (reason) => logger.warn({ reason }, 'reviewing or verifying on the service thread: the review thread failed'));
  const app = createApp({
    log,
    keys,
    approvals,
    policy: source,
    archive,
    now,
    newId: (t) => log.newId(t),
    maxSkewMs: config.maxSkewMs,
    bodyLimitBytes: config.bodyLimitBytes,
    logKey: signer.verifierKey,
    receipts,
    throttle,
    ...(config.metricsKey !== undefined && { metricsKey: config.metricsKey }),
    ...(config.consoleSessionSeconds !== undefined && { consoleSessionSeconds: config.consoleSessionSeconds }),
    ...(storage.consoleSessions && { consoleSessions: storage.consoleSessions }),
    metrics,
    logger,
    review,
  });

  // What runs beside the HTTP server, stopped after it, or at once when it cannot start: nothing
  // may keep the process alive then, no watcher, timer, thread or open log.
  const stopBeside = async (): Promise<void> => {
    clearInterval(keyPoll);
    clearInterval(pruneTimer);
    source.close();
    await compiler.close();
    await throttle.close();
    await review.close();
    await storage.close();
  };
  let server: ServerType;
  try {
    server = await listen(app.fetch, config.port, config.host);
    server.maxConnections = config.maxConnections ?? MAX_CONNECTIONS;
  } catch (e) {
    await stopBeside();
    throw e;
  }
  server.on('clientError', answerClientError);
  // Once listening, a server error (say, no file descriptors left to accept with) is logged; the
  // connections already open carry on, and the service does not go down over it.
  server.on('error', (e: NodeJS.ErrnoException) => logger.error({ err: { message: e.message, code: e.code } }, 'server error'));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, policyVersion: source.current().covenant.policyVersion }, 'covenant serving');
  logger.flush();

  let closing: Promise<void> | undefined;
  // Once closing, every answer asks its client to close the connection: a keep-alive connection
  // that keeps sending requests would otherwise hold the close open for as long as it sends.
  // Prepended, so that it runs before Hono's listener can write an answer's head.
  server.prependListener('request', (_req: unknown, res: { setHeader(name: string, value: string): void }) => {
    if (closing) res.setHeader('connection', 'close');
  });
  return {
    url,
    policyVersion: source.current().covenant.policyVersion,
    close: () =>
      (closing ??= (async () => {
        // Stop accepting, let what is in flight finish and be recorded, then close the log.
        await new Promise<void>((resolve) => {
          // Keep-alive connections that carry no request would otherwise hold the close open, and
          // one whose answer went out just before the close can fall idle afterwards.
          const closeIdle = (): void => {
            if ('closeIdleConnections' in server) server.closeIdleConnections();
          };
          const idle = setInterval(closeIdle, 100);
          server.close(() => {
            clearInterval(idle);
            resolve();
          });
          closeIdle();
        });
        await stopBeside();
        logger.info('covenant stopped');
        logger.flush();
      })()),
  };
}

/**
 * Connections that send nothing, or their headers a byte at a time, must not hold the service's
 * sockets (slowloris): a request's headers within 10 s, the whole request within 30 s, checked
 * every second; an idle keep-alive connection closes after 5 s; at most MAX_CONNECTIONS at once.
 */
const MAX_CONNECTIONS = 1000;
const SERVER_OPTIONS = { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 } as const;

/** Listens, or rejects with a message a person can act on (the port is taken, or not ours to use). */
function listen(fetch: (request: Request) => Response | Promise<Response>, port: number, host: string): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const failed = (e: NodeJS.ErrnoException): void => {
      s.close();
      if (e.code === 'EADDRINUSE') reject(new Error(`port ${port} on ${host} is already in use`));
      else if (e.code === 'EACCES') reject(new Error(`no permission to listen on port ${port} on ${host}`));
      else if (e.code === 'EADDRNOTAVAIL') reject(new Error(`${host} is not an address of this machine`));
      else reject(e);
    };
    const s = serveHttp({ fetch, port, hostname: host, serverOptions: SERVER_OPTIONS }, () => {
      s.off('error', failed);
      resolve(s);
    });
    s.once('error', failed);
  });
}
