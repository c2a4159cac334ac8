// The covenant a running service decides with: the last valid version of the rule folders.
// A valid change is swapped in with one assignment, so a request sees one version or the other,
// never a mix; an invalid change leaves the last valid version serving and keeps its errors.
import { statSync, watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Covenant } from '../domain/covenant.js';
import type { Diagnostic } from '../domain/types.js';
import { listFiles, type Folders } from './files.js';
import { compileHere, type Compiler, type VersionFile } from './compile-process.js';

export interface Version {
  readonly covenant: Covenant;
  readonly files: readonly VersionFile[];
  /** the files as the policy archive keeps them (its archiveText), made where they were compiled */
  readonly archive: string;
  readonly diagnostics: readonly Diagnostic[];
  readonly loadedAt: string;
}

export interface Rejected {
  readonly at: string;
  readonly diagnostics: readonly Diagnostic[];
}

export type ReloadResult = 'loaded' | 'unchanged' | 'invalid';

export interface PolicySourceOptions {
  readonly now: () => number;
  /** called with each newly loaded version before it serves (to archive it) */
  readonly onVersion?: (v: Version) => Promise<void>;
  readonly onReload?: (result: ReloadResult, detail: Version | Rejected) => void;
  /**
   * How reloads read and compile the folders; the service gives a CompileProcess's, so that a
   * large covenant compiles beside the decisions instead of in their way. The first load is here.
   */
  readonly compile?: Compiler;
}

/** A watched folder, and which folder it was: the inode that was at its path when watching began. */
type Watched = { readonly watcher: FSWatcher | undefined; readonly ino: number | undefined };

export class PolicySource {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private reloading: Promise<ReloadResult> | undefined;
  private rejected: Rejected | undefined;
  /** what the folders' files looked like at the last check: path, inode, size and ctime of each */
  private seen: string | undefined;

  private constructor(readonly folders: Folders, private version: Version, private readonly options: PolicySourceOptions) {}

  /** Loads the first version; fails when the files are invalid, since there is nothing to serve. */
  static async start(folders: Folders, options: PolicySourceOptions): Promise<PolicySource | { diagnostics: readonly Diagnostic[] }> {
    // Here, not in the compile process: nothing is served yet, so nothing waits for this thread.
    const loaded = await compileHere(folders, options.now(), undefined);
    if (loaded.kind !== 'loaded') return { diagnostics: loaded.diagnostics };
    const version: Version = { covenant: loaded.covenant, files: loaded.files, archive: loaded.archive, diagnostics: loaded.diagnostics, loadedAt: new Date(options.now()).toISOString() };
    await options.onVersion?.(version);
    return new PolicySource(folders, version, options);
  }

  current(): Version {
    return this.version;
  }

  /** Errors of the last change that could not be loaded, while it is the latest attempt. */
  lastRejected(): Rejected | undefined {
    return this.rejected;
  }

  reload(): Promise<ReloadResult> {
    // INVARIANT: reloads run one at a time, so versions are swapped in the order they were read.
    const run = async (): Promise<ReloadResult> => {
      const compile = this.options.compile ?? compileHere;
      const loaded = await compile(this.folders, this.options.now(), this.version.covenant.policyVersion);
      const at = new Date(this.options.now()).toISOString();
      if (loaded.kind === 'invalid') {
        this.rejected = { at, diagnostics: loaded.diagnostics };
        this.options.onReload?.('invalid', this.rejected);
        return 'invalid';
      }
      this.rejected = undefined;
      if (loaded.kind === 'unchanged') return 'unchanged';
      const version: Version = { covenant: loaded.covenant, files: loaded.files, archive: loaded.archive, diagnostics: loaded.diagnostics, loadedAt: at };
      await this.options.onVersion?.(version);
      this.version = version;
      this.options.onReload?.('loaded', version);
      return 'loaded';
    };
    const next = (this.reloading ?? Promise.resolve('unchanged' as ReloadResult)).then(run, run);
    this.reloading = next;
    return next;
  }

  /**
   * Watches both folders; changes are debounced, as editors write a file in several steps. A watcher
   * follows the folder, not its path: when a deploy moves a new folder into place, the old watcher
   * hears nothing more. So each folder's inode is checked at every change and every two seconds,
   * and a folder that was replaced, or that was missing and is back, is watched anew and reloaded.
   *
   * Watchers also miss changes: Node's recursive watch on Linux follows each file's inode, so once
   * a file was saved by renaming a new one over it (sed -i, many editors, rsync), later writes to
   * it went unheard and the service decided by an old version. So every second the files' inode,
   * size and ctime (which no tool can set back) are compared with the last check too, and any
   * difference reloads: whatever way a file is saved, the service follows within about a second.
   */
  watch(debounceMs = 200, pollMs = 1000): void {
    const schedule = (): void => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.rearm(schedule);
        void this.reload().catch(() => undefined);
      }, debounceMs);
    };
    this.rearm(schedule);
    void this.fingerprint().then((f) => (this.seen ??= f), () => undefined);
    let checking = false;
    this.poll = setInterval(() => {
      this.rearm(schedule);
      if (checking) return;
      checking = true;
      void this.fingerprint()
        .then((f) => {
          if (this.seen !== undefined && f !== this.seen) schedule();
          this.seen = f;
        }, () => undefined)
        .finally(() => (checking = false));
    }, pollMs);
    this.poll.unref();
  }

  /** The folders' data files as they are on disk: each path with its inode, size and ctime. */
  private async fingerprint(): Promise<string> {
    const parts: string[] = [];
    for (const dir of new Set([this.folders.policies, this.folders.rules])) {
      const files = await listFiles(dir).catch(() => [] as string[]);
      for (const f of files) {
        const st = await stat(f).catch(() => undefined);
        parts.push(st ? `${f}\u0000${st.ino}\u0000${st.size}\u0000${st.ctimeMs}` : `${f}\u0000gone`);
      }
    }
    return parts.join('\n');
  }

  /** Watches anew each folder whose path now holds another folder (or none). */
  private rearm(onChange: () => void): void {
    let changed = false;
    for (const dir of new Set([this.folders.policies, this.folders.rules])) {
      // A stat of two folders every two seconds: synchronous costs less than a promise here.
      const ino = statSync(dir, { throwIfNoEntry: false })?.ino;
      const was = this.watched.get(dir);
      if (was && was.ino === ino) continue;
      was?.watcher?.close();
      const watcher = ino === undefined ? undefined : watchFolder(dir, onChange);
      // A folder that could not be watched is recorded as missing, so that the next check tries again.
      this.watched.set(dir, { watcher, ino: watcher ? ino : undefined });
      if (was) changed = true;
    }
    if (changed) onChange();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
    for (const w of this.watched.values()) w.watcher?.close();
    this.watched.clear();
  }
}

function watchFolder(dir: string, onChange: () => void): FSWatcher | undefined {
  let w: FSWatcher;
  try {
    try {
      w = watch(dir, { recursive: true }, onChange);
    } catch {
      w = watch(dir, onChange);
    }
  } catch {
    // gone between the check and the watch: the next check finds it again
    return undefined;
  }
  // A folder that goes away must not take the service with it: the last valid version serves.
  w.on('error', () => onChange());
  return w;
}
