// Specification of the example jobs in resources/examples: they import cleanly and their steps really run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src-main/core/store/db';
import { importConfig } from '../../src-main/core/config';
import { getBackend, getJob, getTask, syncValidatorTypes } from '../../src-main/core/store/config-repo';
import { renderScript } from '../../src-worker/exec/scripts';

const EXAMPLES = path.join(__dirname, '..', '..', 'resources', 'examples');
const FIXTURES = path.join(__dirname, '..', 'fixtures');
const hasPython = spawnSync('python3', ['--version']).status === 0;

let dir: string;
let db: Db;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-config-examples-'));
  db = openDb(path.join(dir, 'store.db'));
  syncValidatorTypes(db, ['gif', 'jpeg', 'none', 'pdb_file', 'png', 'seq']);
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const importExample = (name: string) => importConfig(db, fs.readFileSync(path.join(EXAMPLES, name), 'utf8'));

describe('tmp_count example', () => {
  it('is A_A’s documented job: ls /tmp, then wc -l of the listing, guarded by the none validator', () => {
    expect(importExample('tmp_count.yaml').created).toEqual({ queue_types: 0, backends: 0, tasks: 2, jobs: 1 });
    expect(getTask(db, 'list_tmp')).toMatchObject({
      backend: 'local',
      executable: 'ls /tmp',
      in_glob: '.input',
      out_glob: '.contents',
      stdout_glob: '.contents',
    });
    expect(getTask(db, 'count_lines')).toMatchObject({
      backend: 'local',
      executable: 'wc -l $I1',
      in_glob: '.contents',
      out_glob: '.count',
      stdout_glob: '.count',
    });
    const job = getJob(db, 'tmp_count');
    expect(job).toMatchObject({ runnable: true, validators: ['none'] });
    expect(job?.steps.map((s) => [s.key, s.task, s.ordering, s.after])).toEqual([
      ['list', 'list_tmp', 0, []],
      ['count', 'count_lines', 1, ['list']],
    ]);
  });
});

describe('protein_fasta example', () => {
  it('is a Python step then a command step, guarded by the seq validator', () => {
    expect(importExample('protein_fasta.yaml').created).toEqual({ queue_types: 0, backends: 1, tasks: 2, jobs: 1 });
    expect(getBackend(db, 'python')).toMatchObject({ queue_type: 'Python' });
    expect(getTask(db, 'residue_composition')).toMatchObject({ backend: 'python', in_glob: '.fasta', out_glob: '.composition' });
    expect(getTask(db, 'composition_rows')).toMatchObject({ executable: 'wc -l $I1', in_glob: '.composition', out_glob: '.count' });
    const job = getJob(db, 'protein_composition');
    expect(job).toMatchObject({ runnable: true, validators: ['seq'] });
    expect(job?.steps.map((s) => [s.key, s.after])).toEqual([
      ['composition', []],
      ['rows', ['composition']],
    ]);
  });

  it('keeps to A_A’s code-block dialect: single quotes only', () => {
    importExample('protein_fasta.yaml');
    expect(getTask(db, 'residue_composition')?.executable).not.toContain('"');
  });

  it.skipIf(!hasPython)('its Python block writes the amino-acid composition of 5ptpA.fasta, and the table has 21 rows', () => {
    importExample('protein_fasta.yaml');
    const task = getTask(db, 'residue_composition');
    const work = path.join(dir, 'work');
    fs.mkdirSync(work);
    const id = 'sub-1';
    // Step 1 input is written as <id>.<in_glob without dots>, as A_A does.
    fs.copyFileSync(path.join(FIXTURES, '5ptpA.fasta'), path.join(work, `${id}.fasta`));
    const script = renderScript('python', task?.executable ?? '', {
      cwd: work,
      id,
      in_globs: [task?.in_glob ?? ''],
      out_globs: [task?.out_glob ?? ''],
      params: [],
      env: {},
      files: fs.readdirSync(work),
    });
    const scriptFile = path.join(work, '.aa-script-test.py');
    fs.writeFileSync(scriptFile, script);
    const run = spawnSync('python3', [scriptFile], { cwd: work, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('222 residues read, 222 of them standard amino acids\n');

    const rows = fs.readFileSync(path.join(work, `${id}.composition`), 'utf8').trimEnd().split('\n');
    expect(rows).toHaveLength(21);
    expect(rows[0]).toBe('residue\tcount\tpercent');
    const counts = rows.slice(1).map((r) => r.split('\t'));
    expect(counts.map((c) => c[0]).join('')).toBe('ACDEFGHIKLMNPQRSTVWY');
    expect(counts.reduce((sum, c) => sum + Number(c[1]), 0)).toBe(222);
    // 5ptpA has 33 serines: 33/222 = 14.86%.
    expect(counts.find((c) => c[0] === 'S')).toEqual(['S', '33', '14.86']);
  });
});
