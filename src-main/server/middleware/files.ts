// Stored files are served only when they really lie inside their folder: a symlink a task left among its
// outputs (or unpacked from a client's archive) must not hand out files from elsewhere on the machine.
import fs from 'node:fs';
import path from 'node:path';

/** `file` exists, is a regular file, and its real path (links resolved) lies inside `root`'s real path. */
export function isStoredFile(root: string, file: string): boolean {
  try {
    const real = fs.realpathSync(file);
    const base = fs.realpathSync(root);
    return real.startsWith(base + path.sep) && fs.statSync(real).isFile();
  } catch {
    return false;
  }
}
