// CWL interchange against a real store: CommandLineTools become Tasks, Workflows Jobs; exports parse as CWL v1.2 and read back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDocumentByString, CommandLineTool, Workflow } from 'cwl-ts-auto';
import { openDb, type Db } from '../../src-main/core/store/db';
import { getJob, getTask, listJobs, listTasks, saveJob, saveTask, syncValidatorTypes } from '../../src-main/core/store/config-repo';
import { AppError } from '../../src-main/core/errors';
import { exportJobCwl, exportJobCwlFiles, exportTaskCwl, importCwl, type CwlFile } from '../../src-main/core/cwl';
import { exportConfig } from '../../src-main/core/config';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'cwl');
const fixture = (name: string): CwlFile => ({ name, text: fs.readFileSync(path.join(FIXTURES, name), 'utf8') });
const ALL = ['sort-lines.cwl', 'number-lines.cwl', 'sort-and-number.cwl'].map(fixture);

function store(): Db {
  const db = openDb(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aa-cwl-')), 'workbench.sqlite'));
  syncValidatorTypes(db, ['none', 'seq', 'pdb_file', 'png', 'gif', 'jpeg']);
  return db;
}

async function refused(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the import to be refused');
}

const withoutIds = <T extends { id?: number }>(value: T): Omit<T, 'id'> => {
  const { id, ...rest } = value;
  void id;
  return rest;
};

describe('importing a CommandLineTool', () => {
  it('File inputs become $I with the in_glob of their EDAM format, bound values $P parameters in position order, stdout the stdout_glob and a result', async () => {
    const db = store();
    const summary = await importCwl(db, [fixture('sort-lines.cwl')]);
    expect(summary).toMatchObject({ kind: 'cwl', created: { tasks: 1, jobs: 0 }, notes: [] });
    expect(getTask(db, 'sort_lines')).toMatchObject({
      name: 'sort_lines',
      description: 'Sorts the lines of a text file, last first when asked to.',
      executable: 'sort $P1 $I1',
      in_glob: '.txt',
      out_glob: '.tsv',
      stdout_glob: '.tsv',
      parameters: [{ flag: '-r', alias: 'reverse', default: 'FALSE', bool_valued: true, spacing: true, switchless: false, type: 'boolean', description: 'Last line first.' }],
      configuration: [{ type: 0, name: 'coreutils', version: '9', parameters: null }],
    });
  });

  it('arguments, prefixes glued to their value, int and enum inputs, EnvVarRequirement, ToolTimeLimit and successCodes map onto the Task', async () => {
    const db = store();
    await importCwl(db, [fixture('number-lines.cwl')]);
    expect(getTask(db, 'number_lines')).toMatchObject({
      executable: 'nl -s: $P1 $P2 $I1',
      in_glob: '.tsv',
      out_glob: '.txt',
      stdout_glob: '.txt',
      timeout: 30,
      custom_exit_status: '3',
      custom_exit_behaviour: 0,
      environment: [{ env: 'NUMBERING', value: 'decimal' }],
      parameters: [
        { flag: '-v', alias: 'start', default: '1', spacing: true, switchless: false, type: 'integer' },
        { flag: '-b', alias: 'style', default: 'a', spacing: false, switchless: false, type: 'enum', enum: ['a', 't'] },
      ],
    });
  });

  it('$(inputs.x.path) in an argument, an unbound input used there, File outputs by glob and aa:in_glob are read', async () => {
    const db = store();
    const text = `cwlVersion: v1.2
class: CommandLineTool
$namespaces: { aa: "https://aa-workbench.invalid/cwl#" }
baseCommand: [python3, /opt/tools/align.py]
arguments:
  - valueFrom: --seqs=$(inputs.seqs.path)
    position: 1
  - valueFrom: $(inputs.gap)
    position: 2
  - valueFrom: $(runtime.tmpdir)
    prefix: --scratch
    position: 3
inputs:
  seqs: { type: File, aa:in_glob: .seqs }
  gap: { type: float, default: 0.5 }
outputs:
  alignment: { type: File, outputBinding: { glob: "*.aln" } }
  tree: { type: "File[]", outputBinding: { glob: "tree_*.nwk" } }
`;
    const summary = await importCwl(db, [{ name: 'align.cwl', text }]);
    expect(summary.notes).toEqual([]);
    expect(getTask(db, 'align')).toMatchObject({
      executable: 'python3 /opt/tools/align.py --seqs=$I1 $P1 --scratch $TMP',
      in_glob: '.seqs',
      out_glob: '.aln,.nwk',
      stdout_glob: null,
      parameters: [{ alias: 'gap', flag: 'gap', switchless: true, type: 'number', default: '0.5' }],
    });
  });
});

describe('importing a Workflow', () => {
  it('becomes a Job whose edges come from `in` sources of the form step/output; its tools take the workflow environment', async () => {
    const db = store();
    const summary = await importCwl(db, ALL);
    expect(summary.created).toEqual({ queue_types: 0, backends: 0, tasks: 2, jobs: 1 });
    const job = getJob(db, 'sort_and_number');
    expect(job).toMatchObject({ description: 'Sort the lines of a file, then number them.', runnable: false, validators: [] });
    expect(job?.steps.map((s) => [s.key, s.task, s.after, s.ordering])).toEqual([
      ['sort', 'sort_lines', [], 0],
      ['number', 'number_lines', ['sort'], 1],
    ]);
    expect(getTask(db, 'number_lines')?.environment).toEqual([
      { env: 'NUMBERING', value: 'decimal' },
      { env: 'LC_ALL', value: 'C' },
    ]);
    // Importing again replaces by name.
    expect((await importCwl(db, ALL, { runnable: true })).updated).toEqual({ queue_types: 0, backends: 0, tasks: 2, jobs: 1 });
    expect(getJob(db, 'sort_and_number')?.runnable).toBe(true);
  });

  it('a step may run a tool of a $graph by #id, an inline tool, or a task already stored', async () => {
    const db = store();
    saveTask(db, { name: 'stored_tool', in_glob: '.input', out_glob: '.out', executable: 'cat $I1' });
    const text = `cwlVersion: v1.2
$graph:
  - class: CommandLineTool
    id: upper
    baseCommand: [tr, a-z, A-Z]
    inputs: []
    outputs: { up: stdout }
    stdout: up.out
  - class: Workflow
    id: main
    label: graph_job
    inputs: { text: File }
    outputs: []
    steps:
      first:
        run: "#upper"
        in: {}
        out: [up]
      second:
        run: stored_tool.cwl
        in: { x: first/up }
        out: []
      third:
        run:
          class: CommandLineTool
          baseCommand: wc
          inputs: { f: { type: File, inputBinding: { position: 1 } } }
          outputs: { n: stdout }
        in: { f: first/up }
        out: [n]
`;
    await importCwl(db, [{ name: 'pack.cwl', text }]);
    expect(getJob(db, 'graph_job')?.steps.map((s) => [s.key, s.task, s.after])).toEqual([
      ['first', 'upper', []],
      ['second', 'stored_tool', ['first']],
      ['third', 'graph_job_third', ['first']],
    ]);
    expect(getTask(db, 'graph_job_third')).toMatchObject({ executable: 'wc $I1', out_glob: '.stdout', stdout_glob: '.stdout' });
  });

  it('a workflow running a tool that is neither uploaded nor stored is refused, and nothing is written', async () => {
    const db = store();
    const error = await refused(importCwl(db, [fixture('sort-lines.cwl'), fixture('sort-and-number.cwl')]));
    expect(error.kind).toBe('Invalid');
    expect(error.problems).toEqual([
      {
        path: 'sort-and-number.cwl: steps.number.run',
        message: '"number-lines.cwl" is neither a file of this upload nor a stored task "number-lines": upload the tool together with the workflow',
      },
    ]);
    expect(listTasks(db)).toEqual([]);
    expect(listJobs(db)).toEqual([]);
  });
});

describe('refusing what is not CWL or not supported', () => {
  const tool = (body: string) => `cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\n${body}`;

  it('each problem is located at its file: parser errors, versions, classes, expressions, conditional steps', async () => {
    const db = store();
    const error = await refused(
      importCwl(db, [
        { name: 'typo.cwl', text: tool('inputs:\n  x:\n    type: string\n    inputBinding: {prefx: -x}\noutputs: []\n') },
        { name: 'old.cwl', text: 'cwlVersion: draft-3\nclass: CommandLineTool\ninputs: []\noutputs: []\n' },
        { name: 'expr.cwl', text: 'cwlVersion: v1.2\nclass: ExpressionTool\ninputs: []\noutputs: []\nexpression: "${return {};}"\n' },
        { name: 'js.cwl', text: tool('arguments: [$(inputs.x.length)]\ninputs: { x: string }\noutputs: []\n') },
        { name: 'arrays.cwl', text: tool('inputs: { xs: { type: "string[]", inputBinding: {position: 1} } }\noutputs: []\n') },
        {
          name: 'when.cwl',
          text: 'cwlVersion: v1.2\nclass: Workflow\nrequirements: { InlineJavascriptRequirement: {} }\ninputs: { go: boolean }\noutputs: []\nsteps:\n  s:\n    run: { class: CommandLineTool, baseCommand: "true", inputs: [], outputs: [] }\n    when: $(inputs.go)\n    in: { go: go }\n    out: []\n',
        },
        { name: 'broken.cwl', text: 'cwlVersion: v1.2\nclass: [oops\n' },
      ]),
    );
    const byPath = Object.fromEntries((error.problems ?? []).map((p) => [p.path, p.message]));
    expect(byPath['typo.cwl']).toMatch(/invalid field prefx/);
    expect(byPath['old.cwl: cwlVersion']).toBe('unsupported version "draft-3" (expected v1.0, v1.1, v1.2)');
    expect(byPath['expr.cwl.class']).toBe('unsupported class "ExpressionTool" (expected CommandLineTool or Workflow)');
    expect(byPath['js.cwl: arguments[0]']).toMatch(/^expressions other than \$\(inputs\.NAME\)/);
    expect(byPath['arrays.cwl: inputs.xs']).toMatch(/^array types are not supported/);
    expect(byPath['when.cwl: steps.s.when']).toBe('conditional steps are not supported');
    expect(Object.keys(byPath).some((p) => p.startsWith('broken.cwl: line '))).toBe(true);
    expect(listTasks(db)).toEqual([]);
  });

  it('$import and $include are refused rather than read from disk', async () => {
    const secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aa-cwl-secret-')), 'secret.txt');
    fs.writeFileSync(secret, 'do not read me');
    const error = await refused(
      importCwl(store(), [{ name: 'sneaky.cwl', text: tool(`doc: { $include: "file://${secret}" }\ninputs: []\noutputs: []\n`) }]),
    );
    expect(error.problems?.[0].path).toBe('sneaky.cwl');
    expect(JSON.stringify(error.problems)).not.toContain('do not read me');
  });
});

describe('exporting', () => {
  it('a Task is a CommandLineTool the CWL parser reads, and it imports back as the same Task', async () => {
    const db = store();
    await importCwl(db, ALL);
    for (const name of ['sort_lines', 'number_lines']) {
      const file = await exportTaskCwl(db, name);
      expect(file.name).toBe(`${name}.cwl`);
      expect(file.text.startsWith('#!/usr/bin/env cwl-runner\n')).toBe(true);
      const parsed = await loadDocumentByString(file.text, `file:///x/${file.name}`);
      expect(parsed).toBeInstanceOf(CommandLineTool);
      expect((parsed as CommandLineTool).cwlVersion).toBe('v1.2');

      const copy = store();
      await importCwl(copy, [file]);
      expect(withoutIds(getTask(copy, name) as NonNullable<ReturnType<typeof getTask>>)).toEqual(
        withoutIds(getTask(db, name) as NonNullable<ReturnType<typeof getTask>>),
      );
    }
  });

  it('A_A placeholders without a CWL counterpart become literal file names the outputs still match', async () => {
    const db = store();
    saveTask(db, {
      name: 'psipred',
      in_glob: '.fasta,.mtx',
      out_glob: '.ss2,.horiz',
      executable: '/opt/psipred/bin/psipred $P1 $I1 -o $O1 --log=$ID.log $VALUE',
      incomplete_outputs_behaviour: 0,
      retries: 2,
      parameters: [
        { flag: '-t', alias: 'threshold', default: '0.5' },
        { flag: 'VALUE', alias: 'model', default: 'weights.dat' },
      ],
      configuration: [{ type: 1, name: 'uniref90', version: '2024_01' }],
    });
    const file = await exportTaskCwl(db, 'psipred');
    expect(await loadDocumentByString(file.text, 'file:///x/psipred.cwl')).toBeInstanceOf(CommandLineTool);
    const copy = store();
    await importCwl(copy, [file]);
    expect(getTask(copy, 'psipred')).toMatchObject({
      executable: '/opt/psipred/bin/psipred $P1 $I1 -o output.ss2 --log=output.log $P2',
      in_glob: '.fasta,.mtx',
      out_glob: '.ss2,.horiz',
      incomplete_outputs_behaviour: 0,
      retries: 2,
      configuration: [{ type: 1, name: 'uniref90', version: '2024_01', parameters: null }],
    });
  });

  it('a Job is one packed document and also separate files; both parse and import back as the same Job', async () => {
    const db = store();
    await importCwl(db, ALL);
    // An edge no file travels along is kept too.
    saveTask(db, { name: 'report', in_glob: '.input', out_glob: '.html', executable: 'make-report $I1' });
    saveJob(db, {
      name: 'sort_and_number',
      validators: ['none'],
      steps: [
        { key: 'sort', task: 'sort_lines' },
        { key: 'number', task: 'number_lines', after: ['sort'] },
        { key: 'report', task: 'report', after: ['number'] },
      ],
    });
    const packed = await exportJobCwl(db, 'sort_and_number');
    const graph = await loadDocumentByString(packed.text, 'file:///x/sort_and_number.cwl');
    expect(Array.isArray(graph)).toBe(true);
    expect((graph as unknown[]).some((p) => p instanceof Workflow)).toBe(true);

    const files = await exportJobCwlFiles(db, 'sort_and_number');
    expect(files.map((f) => f.name)).toEqual(['sort_and_number.cwl', 'sort_lines.cwl', 'number_lines.cwl', 'report.cwl']);
    for (const f of files) await loadDocumentByString(f.text, `file:///x/${f.name}`);

    for (const upload of [[packed], files]) {
      const copy = store();
      await importCwl(copy, upload);
      const job = getJob(copy, 'sort_and_number');
      expect(job?.validators).toEqual(['none']);
      expect(job?.steps.map((s) => [s.key, s.task, s.after])).toEqual([
        ['sort', 'sort_lines', []],
        ['number', 'number_lines', ['sort']],
        ['report', 'report', ['number']],
      ]);
      expect(exportConfig(copy)).toEqual(exportConfig(db));
    }
  });

  it('a Task that runs a script body is not written as CWL', async () => {
    const db = store();
    db.prepare("INSERT INTO backend (name, queue_type_id, root_path) VALUES ('py', (SELECT id FROM queue_type WHERE name = 'Python'), '')").run();
    saveTask(db, { name: 'script', backend: 'py', in_glob: '.input', out_glob: '.out', executable: "print('hi')" });
    expect((await refused(exportTaskCwl(db, 'script'))).kind).toBe('Unsupported');
  });
});
