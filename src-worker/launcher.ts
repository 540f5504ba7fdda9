// Launcher process: starts task attempts for the server. Linux fork copies the forking process's page tables and
// makes both sides fault on every page they touch until exec, so a spawn costs in proportion to the spawner's memory;
// from this small process it costs what a bare `node -e spawn(...)` does, whatever the server holds.
import { killGroup, runAttempt, useNativeSpawner, useSpareFiles, useTaskEnvironment } from './exec/run';
import { loadNativeSpawner, nativeSpawnerFile } from './exec/native-spawn';
import { SpareFiles } from './exec/spare-files';
import type { LaunchReply, LaunchRun } from './exec/launch-protocol';

// Set only so that Electron's binary would run this file as Node; the tasks must not inherit it.
delete process.env.ELECTRON_RUN_AS_NODE;
// Nothing changes this process's environment from here on: tasks start from one plain copy of it.
useTaskEnvironment({ ...process.env });

/**
 * How long an attempt runs before the server hears its pid. Until then the server cannot signal the group itself:
 * a cancel or shutdown in that window reaches it when the pid arrives, and if this process is killed in that window
 * the group is left to the stray sweep of the next start (its processes work in the attempt's folder).
 */
const ANNOUNCE_AFTER_MS = 20;
/** Process groups of the attempts running now. */
const groups = new Set<number>();
const spares = new SpareFiles();
useSpareFiles(spares);
useNativeSpawner(loadNativeSpawner(nativeSpawnerFile(__dirname)));

function reply(message: LaunchReply): void {
  if (process.connected) process.send?.(message);
}

process.on('message', (m: LaunchRun) => {
  if (m?.t !== 'run') return;
  let announce: NodeJS.Timeout | undefined;
  const port = {
    postMessage: (s: { pid: number; started_at: string }) => {
      groups.add(s.pid);
      // Most commands end within a few milliseconds: their pid travels with 'done' instead, sparing the server a
      // wake-up and a commit per step. Only a command still running by then is announced (for cancel and recovery).
      announce = setTimeout(() => {
        reply({ t: 'started', id: m.id, pid: s.pid, started_at: s.started_at });
      }, ANNOUNCE_AFTER_MS);
    },
  };
  void runAttempt({ ...m.spec, port }).then((outcome) => {
    clearTimeout(announce);
    if (outcome.pid !== null) groups.delete(outcome.pid);
    reply({ t: 'done', id: m.id, outcome });
  });
});

// The server is gone (stopped or killed): nothing would record what its attempts do, so they stop with it.
process.on('disconnect', () => {
  spares.clear();
  for (const pid of groups) killGroup(pid);
  process.exit(0);
});
