// Servers for the HTTP benchmarks, each in its own process on a free loopback port.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Every server started, so that each is stopped at the end even when a later one fails to start. */
export const started: ChildProcess[] = [];

/** A server in its own process, its output discarded (as a log shipper would take it away). */
export async function child(args: string[], env: Record<string, string> = {}): Promise<{ url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(process.execPath, args.map((a) => a.replace('$PORT', String(port))), { stdio: 'ignore', env: { ...process.env, PORT: String(port), ...env } });
  started.push(proc);
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const up = await fetch(`${url}/healthz`).then((r) => r.status === 200, () => false);
    if (up) return { url };
  }
  throw new Error(`${args.join(' ')} did not start`);
}
