// Where the data dir lives and how it is laid out.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { DataPaths } from './api';

/** Per-user app-data folder; AA_DATA_DIR overrides it. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AA_DATA_DIR) return path.resolve(env.AA_DATA_DIR);
  const home = os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'aa-workbench');
  if (process.platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'aa-workbench');
  return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'aa-workbench');
}

export function dataPaths(root: string): DataPaths {
  const abs = path.resolve(root);
  const paths: DataPaths = {
    root: abs,
    db: path.join(abs, 'workbench.sqlite'),
    // Each submission's folder, submissions/<uuid>/: its A_A input and results side by side, logs/ (stdout, stderr),
    // in/ (native API inputs, one subfolder per extra file field).
    uploads: path.join(abs, 'submissions'),
    results: path.join(abs, 'submissions'),
    work: path.join(abs, 'work'),
    logs: path.join(abs, 'logs'),
    tmp: path.join(abs, 'tmp'),
  };
  for (const dir of [paths.uploads, paths.work, paths.logs, paths.tmp]) fs.mkdirSync(dir, { recursive: true });
  return paths;
}

/** Join `rel` under `root`, refusing anything that escapes it (.., absolute paths, NUL). */
export function safeJoin(root: string, rel: string): string | null {
  if (rel.includes('\0')) return null;
  const resolved = path.resolve(root, rel);
  const base = path.resolve(root);
  return resolved === base || resolved.startsWith(base + path.sep) ? resolved : null;
}
