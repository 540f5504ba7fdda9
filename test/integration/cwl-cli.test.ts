// `aa import` of .cwl files and `aa export --cwl`, run as real processes against the built app.
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadDocumentByString, CommandLineTool } from 'cwl-ts-auto';
import { FIXTURES, ROOT, tempDir } from '../support/server';

const AA = path.join(ROOT, 'bin', 'aa.js');
const aa = (args: string[]) => {
  const r = spawnSync(process.execPath, [AA, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const cwl = (name: string) => path.join(FIXTURES, 'cwl', name);

describe('aa import / export with CWL', () => {
  it('imports a workflow with its tools, runs it, and writes the Job back as one packed CWL document', () => {
    const dir = tempDir();
    const imp = aa(['import', cwl('sort-lines.cwl'), cwl('number-lines.cwl'), cwl('sort-and-number.cwl'), '--runnable', '--data-dir', dir]);
    expect(imp.code, imp.err).toBe(0);
    expect(imp.out).toContain('Imported CWL from');
    expect(imp.out).toContain('created: queue_types 0, backends 0, tasks 2, jobs 1');

    const params = ['sort_lines_reverse=FALSE', 'number_lines_start=1', 'number_lines_style=a'].flatMap((p) => ['--param', p]);
    const run = aa(['run', 'sort_and_number', path.join(ROOT, 'test', 'fixtures', 'file1.txt'), ...params, '--data-dir', dir]);
    expect(run.code, run.err + run.out).toBe(0);
    expect(run.out).toMatch(/sort_and_number \S+: Complete/);

    const job = aa(['export', '--cwl', 'sort_and_number', '--data-dir', dir]);
    expect(job.code, job.err).toBe(0);
    expect(job.out).toContain('$graph:');
    expect(job.out).toContain('run: "#sort_lines"');
  });

  it('exports a Task by name as a CommandLineTool', async () => {
    const dir = tempDir();
    expect(aa(['import', cwl('sort-lines.cwl'), '--data-dir', dir]).code).toBe(0);
    const out = aa(['export', '--cwl', 'sort_lines', '--data-dir', dir]).out;
    expect(await loadDocumentByString(out, 'file:///x/sort_lines.cwl')).toBeInstanceOf(CommandLineTool);
  });

  it('an invalid CWL file fails the import with its problem and exit code 1', () => {
    const dir = tempDir();
    const bad = aa(['import', cwl('sort-and-number.cwl'), '--data-dir', dir]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('sort-and-number.cwl: steps.sort.run');
  });
});
