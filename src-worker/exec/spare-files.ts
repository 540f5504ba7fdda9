// Empty files made ahead of need and renamed into place as stdout files. On some file systems creating a file costs
// up to a millisecond of kernel time (measured: 40 µs to 0.9 ms by where the folder lies) against ~35 µs for a
// rename, and a launcher has time to make the next one while the command it started runs.
import fs from 'node:fs';
import path from 'node:path';

/** Spares kept per working root. */
const KEEP = 4;

interface Spare {
  file: string;
  /** Kept open: a renamed file keeps its descriptor, so handing a spare out costs one call. */
  fd: number;
}

export class SpareFiles {
  /** Per spare folder (one per working root, owned by this process): files ready to be taken. */
  private readonly ready = new Map<string, Spare[]>();
  /** Spare folders with a refill already scheduled. */
  private readonly refilling = new Set<string>();
  private seq = 0;

  /**
   * Opens `file` for writing: a spare renamed into place when one is ready in `root` (the working root the attempt's
   * folder lies in, so the rename stays on one file system), else a new file. Either way spares are made for next
   * time, once the caller has gone on (a launcher: once the command is started).
   */
  open(file: string, root: string): number {
    const area = path.join(root, `.spare-${process.pid}`);
    const spares = this.ready.get(area) ?? [];
    const spare = spares.pop();
    this.scheduleRefill(area);
    if (spare) {
      try {
        fs.renameSync(spare.file, file);
        return spare.fd;
      } catch {
        // The spare went (its folder was cleared), and so did the others: make the file instead.
        for (const s of [spare, ...spares.splice(0)]) fs.closeSync(s.fd);
      }
    }
    return fs.openSync(file, 'w');
  }

  /** Removes this process's spare folders (on exit), and makes no more. */
  clear(): void {
    this.refilling.clear();
    for (const [area, spares] of this.ready) {
      for (const s of spares) fs.closeSync(s.fd);
      fs.rmSync(area, { recursive: true, force: true });
    }
    this.ready.clear();
  }

  /**
   * Made with synchronous calls in a later turn of the event loop: one file per attempt, while its command runs,
   * costs less than the thread-pool round trips of asynchronous calls (three per file).
   */
  private scheduleRefill(area: string): void {
    if (this.refilling.has(area)) return;
    this.refilling.add(area);
    setImmediate(() => {
      if (this.refilling.delete(area)) this.refill(area);
    });
  }

  private refill(area: string): void {
    let spares = this.ready.get(area);
    if (!spares) {
      spares = [];
      this.ready.set(area, spares);
    }
    while (spares.length < KEEP) {
      const file = path.join(area, String(this.seq++));
      try {
        spares.push({ file, fd: openNew(file) });
      } catch {
        return; // The disk refuses: attempts make their own files meanwhile.
      }
    }
  }
}

/** Creates `file` (never an existing one), making its folder the first time. */
function openNew(file: string): number {
  try {
    return fs.openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return fs.openSync(file, 'wx');
}
