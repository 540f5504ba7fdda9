// Stops what a stopped server left running, without signalling processes it did not start (pids are reused).
import fs from 'node:fs';
import path from 'node:path';

/** Linux reports process start times in clock ticks; USER_HZ is 100 on every architecture Node supports. */
const TICKS_PER_SECOND = 100;
/** Slack between the recorded start of an attempt and its spawn (the row is written just before). */
const START_SLACK_MS = 5_000;
/** A group leader spawned later than this after its attempt started is not the attempt's. */
const SPAWN_WINDOW_MS = 120_000;

interface ProcInfo {
  pid: number;
  pgid: number;
  startMs: number;
}

const hasProc = (): boolean => process.platform === 'linux' && fs.existsSync('/proc/self/stat');

let bootMs: number | null = null;
function bootTimeMs(): number {
  if (bootMs === null) {
    const line = fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('btime '));
    bootMs = Number(line?.split(/\s+/)[1] ?? 0) * 1000;
  }
  return bootMs;
}

function procInfo(pid: number): ProcInfo | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, pgid: Number(fields[2]), startMs: bootTimeMs() + (Number(fields[19]) / TICKS_PER_SECOND) * 1000 };
  } catch {
    return null;
  }
}

function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = procInfo(Number(name));
    if (info) out.push(info);
  }
  return out;
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

/**
 * Kills what is left of the process group an attempt recorded (`pgid`, started at `startedAt`), but only
 * processes that can be that attempt's: started after it, in a machine session that has not rebooted since,
 * under a group leader (if still alive) spawned right after it. Returns how many were killed.
 * Without /proc (macOS, Windows) the group is killed as recorded.
 */
export function killRecordedGroup(pgid: number | null, startedAt: string | null): number {
  if (!pgid || pgid <= 1 || pgid === process.pid) return 0;
  if (!hasProc()) {
    try {
      process.kill(-pgid, 'SIGKILL');
      return 1;
    } catch {
      return 0;
    }
  }
  const since = startedAt ? Date.parse(startedAt) : NaN;
  // After a reboot nothing of the attempt survives, and the number may belong to anything.
  if (Number.isNaN(since) || bootTimeMs() > since) return 0;
  const members = allProcesses().filter((p) => p.pgid === pgid && p.startMs >= since - START_SLACK_MS);
  const leader = procInfo(pgid);
  if (leader && leader.pgid === pgid && leader.startMs > since + SPAWN_WINDOW_MS) return 0;
  for (const p of members) kill(p.pid);
  return members.length;
}

/**
 * Processes whose working directory lies inside one of `roots`, or inside a folder whose path starts with one of
 * `prefixes` (attempt folders in a task's own root are `<root>/<submission uuid>-<step>-<attempt>`).
 */
export function processesUnder(roots: string[], prefixes: string[] = []): ProcInfo[] {
  if (!hasProc() || roots.length + prefixes.length === 0) return [];
  const bases = [...roots.map((r) => path.resolve(r) + path.sep), ...prefixes];
  return allProcesses().filter((p) => {
    if (p.pid === process.pid) return false;
    try {
      const cwd = fs.readlinkSync(`/proc/${p.pid}/cwd`) + path.sep;
      return bases.some((b) => cwd.startsWith(b));
    } catch {
      return false;
    }
  });
}

/**
 * At start-up no attempt of this data folder runs yet, so any process working inside its attempt folders
 * was left by a previous run of the server (including attempts whose pid was never recorded). Kills them.
 */
export function killStrays(roots: string[], prefixes: string[] = []): number {
  const strays = processesUnder(roots, prefixes);
  for (const p of strays) kill(p.pid);
  return strays.length;
}
