// A PostgreSQL server of a test's own, to stop and start again without taking the run's shared
// server (and every other test using it) down: initdb into a temporary folder, as the `postgres`
// user when the tests run as root (PostgreSQL refuses to run as root), on a free port.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

const bin = ((): string | undefined => {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root) ? readdirSync(root).sort().pop() : undefined;
  return version && existsSync(join(root, version, 'bin', 'initdb')) ? join(root, version, 'bin') : undefined;
})();

const asRoot = process.getuid?.() === 0;

/** Whether a server of a test's own can be made here. */
export const OWN_SERVER = bin !== undefined && (!asRoot || existsSync('/usr/sbin/runuser'));

function run(cmd: string, args: string[]): void {
  const full = join(bin as string, cmd);
  if (asRoot) execFileSync('/usr/sbin/runuser', ['-u', 'postgres', '--', full, ...args], { stdio: 'ignore' });
  else execFileSync(full, args, { stdio: 'ignore' });
}

export interface OwnServer {
  readonly url: string;
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
  /** stops it and removes its folder */
  remove(): void;
}

export async function ownServer(): Promise<OwnServer> {
  // In /tmp, not in the run's temporary folder: that one is its owner's alone, and the server runs
  // as another user.
  const dir = mkdtempSync('/tmp/covenant-pg-');
  if (asRoot) {
    const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' })));
    chownSync(dir, uid as number, gid as number);
  }
  const data = join(dir, 'data');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  run('initdb', ['-D', data, '-U', 'covenant', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`;
  const start = (): void => run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  start();
  return {
    url: `postgres://covenant@127.0.0.1:${port}/postgres`,
    stop: (mode = 'fast') => run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']),
    start,
    remove: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
