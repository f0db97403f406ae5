/**
 * Worker identities, and whether the worker behind one is provably gone.
 *
 * A worker id is `host:pid:scope:tag`: the host name, the process id, a short digest of
 * the kernel boot id and the process's pid namespace (`scope`), and a random tag per
 * runner. It is what a job's `locked_by` names. A process can tell that another worker is
 * gone only when both share a host and a pid namespace — then `process.kill(pid, 0)`
 * answers for it — which `scope` makes explicit: two containers with the same host name
 * (host networking) but their own pid namespaces have different scopes, and neither takes
 * the other's jobs on a guess. A worker in another scope, or on another host, is left to
 * its lease.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { hostname } from 'node:os';

export interface WorkerIdParts {
  host: string;
  pid: number;
  scope: string;
  tag: string;
}

function readScope(): string {
  const read = (f: () => string) => {
    try {
      return f();
    } catch {
      return ''; // not Linux: the host name and pid are all there is
    }
  };
  const bootId = read(() => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  const pidNamespace = read(() => fs.readlinkSync('/proc/self/ns/pid'));
  return createHash('sha256').update(`${bootId}\n${pidNamespace}`).digest('hex').slice(0, 8);
}

/** This process's host name and scope (see the module comment). */
export const LOCAL = { host: hostname(), scope: readScope() } as const;

export function formatWorkerId(parts: WorkerIdParts): string {
  return `${parts.host}:${parts.pid}:${parts.scope}:${parts.tag}`;
}

/** A fresh id for a runner of this process. */
export function newWorkerId(): string {
  return formatWorkerId({ host: LOCAL.host, pid: process.pid, scope: LOCAL.scope, tag: randomUUID().slice(0, 8) });
}

/** The parts of an id made by `newWorkerId`; undefined for any other shape (older ids included). */
export function parseWorkerId(id: string): WorkerIdParts | undefined {
  const m = /^([^:]*):([1-9][0-9]{0,9}):([0-9a-f]{8}):([0-9a-f]{8})$/.exec(id);
  if (!m) return undefined;
  return { host: m[1]!, pid: Number(m[2]), scope: m[3]!, tag: m[4]! };
}

/**
 * Whether a process with this id exists in this pid namespace. `kill(pid, 0)` sends no
 * signal: ESRCH means no such process; EPERM means one exists that this user may not
 * signal — alive.
 */
export function processAlive(pid: number, kill: (pid: number, signal: number) => unknown = process.kill.bind(process)): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false; // 0 and negatives name process groups
  try {
    kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface GoneCheck {
  /** ids of the runners alive in this process */
  liveHere: ReadonlySet<string>;
  /**
   * The database serves one process at a time (SQLite): a worker that is not provably
   * alive here belonged to an earlier run, whatever its host or scope.
   */
  singleProcess: boolean;
  processAlive?: (pid: number) => boolean;
}

/**
 * Whether the worker named `id` is provably gone, so that its running jobs can be given
 * back at once instead of when its lease ends.
 */
export function workerGone(id: string, check: GoneCheck): boolean {
  if (check.liveHere.has(id)) return false;
  const w = parseWorkerId(id);
  if (w && w.host === LOCAL.host && w.scope === LOCAL.scope) {
    // our pid but not one of our runners: an earlier process that had the same pid (a restarted container's pid 1)
    if (w.pid === process.pid) return true;
    return !(check.processAlive ?? processAlive)(w.pid);
  }
  return check.singleProcess;
}
