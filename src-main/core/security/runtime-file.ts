// `<data dir>/server.json`: where the server using a data folder listens, so the CLI can ask it (e.g. to cancel)
// instead of touching a store a live server owns. Holds the workbench token, so only the owner may read it.
import fs from 'node:fs';
import path from 'node:path';

export interface RuntimeInfo {
  pid: number;
  url: string;
  token: string;
}

const fileOf = (dataDir: string) => path.join(dataDir, 'server.json');

export function writeRuntimeFile(dataDir: string, info: RuntimeInfo): void {
  const file = fileOf(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(info), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Removes the file if it is still this process's (a newer server may have replaced it). */
export function removeRuntimeFile(dataDir: string): void {
  const info = readRuntimeFile(dataDir);
  if (info?.pid === process.pid) fs.rmSync(fileOf(dataDir), { force: true });
}

/** The running server of a data folder; null when there is none (no file, or its process is gone). */
export function readRuntimeFile(dataDir: string): RuntimeInfo | null {
  let info: RuntimeInfo;
  try {
    info = JSON.parse(fs.readFileSync(fileOf(dataDir), 'utf8')) as RuntimeInfo;
  } catch {
    return null;
  }
  try {
    process.kill(info.pid, 0);
    return info;
  } catch {
    // ESRCH: the server died without removing the file. EPERM: the pid now belongs to someone else's process.
    return null;
  }
}
