/**
 * A small file system to fill: a tmpfs of a given size mounted on a new folder. Mounting
 * needs root (CAP_SYS_ADMIN); where the machine does not allow it, `smallDisk` says why
 * and the scenario reports itself skipped with that reason — never silently.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SmallDisk {
  dir: string;
  /** bytes free now */
  free(): number;
  /** writes a file taking all the room but `leaveBytes`; returns its path */
  fill(leaveBytes: number): string;
  unmount(): void;
}

export function smallDisk(bytes: number): SmallDisk | { cannot: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-faults-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return { cannot: `cannot mount a tmpfs${stderr ? ` (${stderr.split('\n')[0]})` : ''}` };
  }
  const free = () => {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    free,
    fill(leaveBytes) {
      const file = path.join(dir, `filler-${Date.now()}`);
      const fd = fs.openSync(file, 'w', 0o600);
      try {
        const chunk = Buffer.alloc(1024 * 1024);
        for (;;) {
          const room = free() - leaveBytes;
          if (room <= 0) break;
          try {
            fs.writeSync(fd, chunk, 0, Math.min(chunk.length, room));
          } catch {
            break; // full already: someone else wrote meanwhile
          }
        }
      } finally {
        fs.closeSync(fd);
      }
      return file;
    },
    unmount() {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
