// A real service on a loopback port, with real files: what the HTTP tests talk to.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { startServer, dataPaths, type Running } from '../src/server.js';
import { KeyStore } from '../src/keys/store.js';
import type { Role } from '../src/audit/types.js';
import type { ThrottleOptions } from '../src/http/throttle.js';
import { BIN, ROOT } from './helpers.js';

export interface TestServer {
  url: string;
  dataDir: string;
  keys: Record<string, string>;
  server: Running;
  call(method: string, path: string, options?: { key?: string; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function testServer(options: { policies?: string; rules?: string; dataDir?: string; maxSkewMs?: number; logger?: Logger; throttle?: ThrottleOptions; consoleSessionSeconds?: number } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'covenant-data-'));
  const store = await KeyStore.open(dataPaths(dataDir).keys);
  const keys: Record<string, string> = {};
  const add = async (label: string, role: Role, partner?: string): Promise<void> => {
    keys[label] = (await store.add({ role, ...(partner && { partner }) }, new Date())).key;
  };
  await add('belastingdienst', 'partner', 'belastingdienst');
  await add('fiod', 'partner', 'fiod');
  await add('douane', 'partner', 'douane');
  await add('privacy-officer', 'privacy-officer');
  await add('auditor', 'auditor');
  await add('approver', 'approver');
  const server = await startServer({
    folders: { policies: options.policies ?? join(ROOT, 'policies'), rules: options.rules ?? join(ROOT, 'rules') },
    dataDir,
    port: 0,
    host: '127.0.0.1',
    maxSkewMs: options.maxSkewMs ?? 300_000,
    bodyLimitBytes: 64 * 1024,
    logger: options.logger ?? pino({ level: 'silent' }),
    ...(options.throttle && { throttle: options.throttle }),
    ...(options.consoleSessionSeconds !== undefined && { consoleSessionSeconds: options.consoleSessionSeconds }),
  });
  if (!('url' in server)) throw new Error(`server did not start: ${JSON.stringify(server.diagnostics)}`);
  const call: TestServer['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...(o.key && { authorization: `Bearer ${o.key}` }), ...o.headers };
    let body: string | undefined = o.raw;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined && { body }) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return { url: server.url, dataDir, keys, server, call };
}

/** The example covenant's FIOD-may-receive-income-data exchange. */
export const exampleRequest = {
  provider: 'belastingdienst',
  recipient: 'fiod',
  dataCategories: ['fiscal.income'],
  purpose: 'nsoc.tbml',
  legalBasis: 'awr-67-43c',
};

/** `covenant serve` in a process of its own, as an operator runs it; resolves once it listens. */
export function serveProcess(dataDir: string, args: readonly string[] = [], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.on('exit', () => reject(new Error(`server exited: ${out}`)));
  });
}
