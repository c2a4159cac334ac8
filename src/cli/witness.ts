// `covenant witness --url URL --log-key VKEY --state DIR`: watches a covenant log from outside.
// Exit 1 (and a line on stderr, and the failure counted in DIR/witness.prom) on a checkpoint that
// is unsigned or inconsistent with the last one accepted; 2 on bad arguments; 3 when --once could
// not reach the log.
import { observe, openWitness, writeMetrics, type WitnessState } from '../audit/witness.js';
import { readVerifierKey } from './receipts.js';
import { Exit, type ExitCode, type Io } from './io.js';
import { apiKeyOf } from './options.js';

export interface WitnessFlags {
  url?: string;
  logKey?: string;
  state?: string;
  apiKeyFile?: string;
  interval?: string;
  once?: boolean;
  name?: string;
}

const UNREACHABLE = 3 as ExitCode;

export async function witnessCommand(flags: WitnessFlags, io: Io): Promise<ExitCode> {
  const missing = (['url', 'logKey', 'state'] as const).filter((k) => !flags[k]);
  if (missing.length > 0) {
    io.stderr(`error: ${missing.map((m) => `--${m === 'logKey' ? 'log-key' : m}`).join(', ')} required\n`);
    return Exit.invalid;
  }
  const apiKey = await apiKeyOf(flags, io);
  if (!apiKey) {
    io.stderr('error: the witness needs an API key of the service (any role): --api-key-file FILE or env COVENANT_API_KEY\n');
    return Exit.invalid;
  }
  const interval = flags.interval === undefined ? 10 : Number(flags.interval);
  if (!(interval >= 0.1 && interval <= 86_400)) {
    io.stderr(`error: --interval must be a number of seconds from 0.1 to 86400, not \`${flags.interval}\`\n`);
    return Exit.invalid;
  }
  const pinned = await readVerifierKey(flags.logKey as string);
  if (typeof pinned === 'string') {
    io.stderr(`error: ${pinned}\n`);
    return Exit.invalid;
  }
  const { key } = pinned;
  const state = await openWitness(flags.state as string, pinned.text, flags.name);
  if (typeof state === 'string') {
    io.stderr(`error: ${state}\n`);
    return Exit.failed;
  }
  io.stderr(`witness ${state.signer.name}: cosigner key ${state.signer.verifierKey}; ${state.last ? `last accepted ${state.last.size} entries` : 'nothing accepted yet'}\n`);
  const base = (flags.url as string).replace(/\/+$/, '');
  const get = async (path: string): Promise<Response> => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(10_000) });
  const counts = { accepted: 0, failures: 0, size: state.last?.size ?? 0, lastSuccess: 0 };
  for (;;) {
    const status = await poll(state, key, get, counts, io);
    await writeMetrics(state.dir, counts).catch(() => undefined);
    if (status === Exit.failed) return Exit.failed;
    if (flags.once) return status === 'unreachable' ? UNREACHABLE : Exit.ok;
    await new Promise((r) => setTimeout(r, interval * 1000));
  }
}

async function poll(state: WitnessState, key: Parameters<typeof observe>[1], get: (path: string) => Promise<Response>, counts: { accepted: number; failures: number; size: number; lastSuccess: number }, io: Io): Promise<'ok' | 'unreachable' | typeof Exit.failed> {
  let note: string;
  try {
    const res = await get('/v1/audit/checkpoint');
    if (!res.ok) throw new Error(`GET /v1/audit/checkpoint answered ${res.status}`);
    note = await res.text();
  } catch (e) {
    io.stderr(`${new Date(io.now()).toISOString()} warning: cannot fetch the checkpoint: ${(e as Error).message}\n`);
    return 'unreachable';
  }
  let outcome: Awaited<ReturnType<typeof observe>>;
  try {
    outcome = await observe(state, key, note, async (from, to) => {
      const res = await get(`/v1/audit/consistency?from=${from}&to=${to}`);
      if (!res.ok) throw new Error(`GET /v1/audit/consistency answered ${res.status}`);
      return ((await res.json()) as { proof: string[] }).proof;
    }, io.now());
  } catch (e) {
    io.stderr(`${new Date(io.now()).toISOString()} warning: cannot fetch a consistency proof: ${(e as Error).message}\n`);
    return 'unreachable';
  }
  if (outcome.kind === 'bad') {
    counts.failures++;
    io.stderr(`${new Date(io.now()).toISOString()} ALERT: ${outcome.reason}. The log can no longer be trusted; this witness stops. Keep its state (${state.dir}) as evidence.\n`);
    return Exit.failed;
  }
  counts.lastSuccess = Math.floor(io.now() / 1000);
  if (outcome.kind === 'accepted') {
    counts.accepted++;
    counts.size = outcome.checkpoint.size;
    io.stderr(`${outcome.checkpoint.at} accepted and cosigned the checkpoint of ${outcome.checkpoint.size} entries\n`);
  }
  return 'ok';
}
