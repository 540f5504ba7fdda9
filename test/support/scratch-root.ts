// One scratch folder per test run: every temporary folder the tests, their servers and their tasks make lies under
// it (TMPDIR points there before any test process starts), and it goes when the run ends, even after a crash of a
// test process that skipped its own clean-up.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-tests-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    try {
      fs.rmSync(root, { recursive: true, force: true });
    } catch (error) {
      // A file system a test mounted and could not unmount keeps its mount point; say so rather than fail the run.
      console.warn(`scratch folder ${root} not fully removed: ${(error as Error).message}`);
    }
  };
}
