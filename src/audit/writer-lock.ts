// One writer per decision log. Two `covenant serve` on one data folder would each append from
// their own head, forking the hash chain: verify would then report tampering that nobody did. So
// the service holds a lock on the log folder for as long as it runs; readers (the review commands,
// `audit verify`) take none.
//
// The lock is a listening Unix socket, not a lock file: the kernel drops it the moment its process
// ends, however it ends, so a restart right after `kill -9` starts at once. proper-lockfile (which
// guards the short writes of keys.json) can tell a dead holder only once its lock has gone stale,
// seconds later, and a host that stalls for longer than that makes a live holder look dead.
//
// On Linux the socket is named in the abstract namespace, after the folder's real path: binding is
// atomic and leaves no file behind. (Processes in different network namespaces, such as two
// containers sharing a volume, do not see each other's abstract sockets.) Elsewhere it is a socket
// file in the folder; one left by a dead process refuses connections and is replaced.
import { createHash } from 'node:crypto';
import { realpath, unlink } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';

export interface WriterLock {
  release(): Promise<void>;
}

const IN_USE = 'another `covenant serve` is writing to this data folder; stop it first (two writers would fork the log)';

/**
 * Takes the log folder's writer lock, or rejects with a message a person can act on. `abstract`
 * chooses the kind of socket (tests take both).
 */
export async function lockLog(dir: string, { abstract = process.platform === 'linux' } = {}): Promise<WriterLock> {
  const real = await realpath(dir);
  if (abstract) {
    const name = `\0covenant-log-${createHash('sha256').update(real).digest('hex')}`;
    return held(await listenOn(name));
  }
  const file = join(real, '.writer.sock');
  let server = await listenOn(file).catch((e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? undefined : Promise.reject(e)));
  if (server === undefined) {
    if (await answers(file)) throw new Error(IN_USE);
    await unlink(file).catch(() => undefined);
    server = await listenOn(file);
  }
  return held(server);
}

function listenOn(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' && path.startsWith('\0') ? new Error(IN_USE) : e));
    server.listen(path, () => resolve(server));
  });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function held(server: Server): WriterLock {
  // The lock alone must not keep the process alive.
  server.unref();
  return { release: () => new Promise((resolve) => server.close(() => resolve())) };
}
