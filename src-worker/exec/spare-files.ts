// Empty files made ahead of need and renamed into place as stdout files. On some file systems creating a file costs
// up to a millisecond of kernel time (measured: 40 µs to 0.9 ms by where the folder lies) against ~35 µs for a
// rename, and a launcher has time to make the next one while the command it started runs.
import fs from 'node:fs';
import path from 'node:path';

/** Spares kept per working root. */
const KEEP = 4;

export class SpareFiles {
  /** Per spare folder (one per working root, owned by this process): files ready to be taken. */
  private readonly ready = new Map<string, string[]>();
  private readonly making = new Map<string, number>();
  private seq = 0;

  /**
   * Opens `file` for writing: a spare renamed into place when one is ready in `root` (the working root the attempt's
   * folder lies in, so the rename stays on one file system), else a new file. Either way a spare is made for next time.
   */
  open(file: string, root: string): number {
    const area = path.join(root, `.spare-${process.pid}`);
    const spare = this.ready.get(area)?.pop();
    this.refill(area);
    if (spare) {
      try {
        fs.renameSync(spare, file);
        return fs.openSync(file, 'w');
      } catch {
        // The spare went (its folder was cleared): make the file instead.
      }
    }
    return fs.openSync(file, 'w');
  }

  /** Removes this process's spare folders (on exit), including those whose first spares are still being made. */
  clear(): void {
    for (const area of new Set([...this.ready.keys(), ...this.making.keys()])) fs.rmSync(area, { recursive: true, force: true });
    this.ready.clear();
  }

  private refill(area: string): void {
    const have = (this.ready.get(area)?.length ?? 0) + (this.making.get(area) ?? 0);
    for (let i = have; i < KEEP; i++) {
      this.making.set(area, (this.making.get(area) ?? 0) + 1);
      const target = path.join(area, String(this.seq++));
      const done = (ok: boolean) => {
        this.making.set(area, (this.making.get(area) ?? 1) - 1);
        if (ok) this.ready.set(area, [...(this.ready.get(area) ?? []), target]);
      };
      fs.mkdir(area, { recursive: true }, (mkdirError) => {
        if (mkdirError) return done(false);
        fs.open(target, 'wx', (openError, fd) => {
          if (openError) return done(false);
          fs.close(fd, () => done(true));
        });
      });
    }
  }
}
