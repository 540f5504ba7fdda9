// Configuration → CWL v1.2: a Task as a CommandLineTool, a Job as a Workflow whose steps run those tools.
import { AppError } from '../errors';
import { COMPLETION, EXECUTION_BEHAVIOURS } from '../model/types';
import type { ExecutionBehaviour, Job, Parameter, Task } from '../model/types';
import { effectiveType } from '../openapi/contract';
import { splitGlobs, stdoutGlob } from '../plan/plan';
import { endingOfFormat, formatOfEnding } from './formats';
import { AA_NAMESPACE, EDAM_NAMESPACE, type Fields } from './read';

export const CWL_VERSION = 'v1.2';

const COMPLETION_WORDS: Record<number, string> = {
  [COMPLETION.CONTINUE]: 'continue',
  [COMPLETION.TERMINATE]: 'terminate',
  [COMPLETION.FAIL]: 'fail',
};

const PLACEHOLDER = /\$(?:P(\d+)|I(\d+)|O(\d+)|VALUE|ID|TMP)/g;

/** A CWL identifier from free text: letters, digits and `_`, not starting with a digit. */
function identifier(text: string, fallback: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (cleaned === '') return fallback;
  return /^\d/.test(cleaned) ? `_${cleaned}` : cleaned;
}

function unique(wanted: string, taken: Set<string>): string {
  let id = wanted;
  for (let n = 2; taken.has(id); n++) id = `${wanted}_${n}`;
  taken.add(id);
  return id;
}

const CWL_TYPES: Record<string, string> = { string: 'string', integer: 'long', number: 'double', boolean: 'boolean', file: 'File' };

/** What the exported tool names each part of the task, for the workflow to wire steps with. */
export interface ToolShape {
  tool: Fields;
  /** Input id per in_glob (same order). */
  files: Array<{ id: string; glob: string }>;
  /** Input id per parameter. */
  values: Array<{ id: string; parameter: Parameter }>;
  /** Output id per out_glob (same order); the stdout one is of type stdout. */
  outputs: Array<{ id: string; glob: string }>;
}

/**
 * A Task as a CommandLineTool. Literal words before the first placeholder are the baseCommand; then each word keeps
 * its place: `$I<n>` is a File input, `$P<n>` an input bound with the parameter's flag, any other word an argument.
 */
export function taskToTool(task: Task, behaviour: ExecutionBehaviour): ToolShape {
  if (behaviour !== EXECUTION_BEHAVIOURS.localhost && behaviour !== EXECUTION_BEHAVIOURS.GridEngine) {
    throw new AppError('Unsupported', `task "${task.name}" runs a script body; only command-line tasks can be written as CWL`);
  }
  const taken = new Set<string>();
  const params = task.parameters.filter((p) => !p.flag.includes('VALUE'));
  const valueParameter = task.parameters.find((p) => !p.bool_valued && p.flag.includes('VALUE')) ?? null;
  const inGlobs = splitGlobs(task.in_glob);
  const outGlobs = splitGlobs(task.out_glob);
  const stdout = task.stdout_glob || outGlobs.includes('.stdout') ? stdoutGlob(task.stdout_glob) : null;

  const paramIds = new Map<Parameter, string>();
  for (const p of task.parameters) paramIds.set(p, unique(identifier(p.alias, 'parameter'), taken));
  const fileInputs = inGlobs.map((glob) => unique(identifier(glob, 'input'), taken));
  const outputs = outGlobs.map((glob) => ({ id: unique(identifier(glob, 'output'), taken), glob }));

  const inputs: Fields[] = [];
  const used = new Set<string>();
  const args: Fields[] = [];
  const baseCommand: string[] = [];
  const words = task.executable.split(/\s+/).filter((w) => w !== '');
  let position = 0;
  for (const word of words) {
    const whole = /^\$(P|I)(\d+)$/.exec(word);
    const hasPlaceholder = /\$(?:P\d+|I\d+|O\d+|VALUE|ID|TMP)/.test(word);
    if (!hasPlaceholder && position === 0 && args.length === 0 && used.size === 0) {
      baseCommand.push(word);
      continue;
    }
    position += 1;
    if (whole && whole[1] === 'I' && fileInputs[Number(whole[2]) - 1] && !used.has(fileInputs[Number(whole[2]) - 1])) {
      const id = fileInputs[Number(whole[2]) - 1];
      used.add(id);
      inputs.push(fileInput(id, inGlobs[Number(whole[2]) - 1], { position }));
      continue;
    }
    if (whole && whole[1] === 'P' && params[Number(whole[2]) - 1] && !used.has(paramIds.get(params[Number(whole[2]) - 1]) as string)) {
      const p = params[Number(whole[2]) - 1];
      const id = paramIds.get(p) as string;
      used.add(id);
      inputs.push(valueInput(id, p, { position, ...(p.switchless ? {} : { prefix: p.flag, ...(p.spacing ? {} : { separate: false }) }) }));
      continue;
    }
    const valueFrom = word.replace(PLACEHOLDER, (match: string, pn?: string, inum?: string, on?: string) => {
      if (pn !== undefined) {
        const p = params[Number(pn) - 1];
        return p ? `$(inputs.${paramIds.get(p)})` : match;
      }
      if (inum !== undefined) return fileInputs[Number(inum) - 1] ? `$(inputs.${fileInputs[Number(inum) - 1]}.path)` : match;
      if (on !== undefined) return outGlobs[Number(on) - 1] ? `output${outGlobs[Number(on) - 1]}` : match;
      if (match === '$VALUE') return valueParameter ? `$(inputs.${paramIds.get(valueParameter)})` : '';
      if (match === '$ID') return 'output';
      return '$(runtime.tmpdir)';
    });
    args.push({ position, valueFrom });
  }
  // Files and parameters the command line does not name are still inputs: files are staged, parameters are REST fields.
  inGlobs.forEach((glob, i) => {
    if (!used.has(fileInputs[i])) inputs.push(fileInput(fileInputs[i], glob, null));
  });
  for (const p of task.parameters) {
    const id = paramIds.get(p) as string;
    if (!used.has(id)) inputs.push(valueInput(id, p, null));
  }

  const tool: Fields = {
    cwlVersion: CWL_VERSION,
    class: 'CommandLineTool',
    id: task.name,
    ...(task.description ? { doc: task.description } : {}),
    ...(baseCommand.length ? { baseCommand: baseCommand.length === 1 ? baseCommand[0] : baseCommand } : {}),
    ...(args.length ? { arguments: args } : {}),
    inputs,
    outputs: outputs.map(({ id, glob }) =>
      stdout !== null && glob === stdout
        ? { id, type: 'stdout' }
        : { id, type: task.incomplete_outputs_behaviour === COMPLETION.FAIL ? 'File' : 'File?', outputBinding: { glob: `*${glob}` } },
    ),
    ...(stdout !== null ? { stdout: `output${stdout}` } : {}),
  };
  const requirements: Fields[] = [];
  if (task.environment.length) {
    requirements.push({ class: 'EnvVarRequirement', envDef: task.environment.map((e) => ({ envName: e.env, envValue: e.value })) });
  }
  if (task.timeout !== null) requirements.push({ class: 'ToolTimeLimit', timelimit: Math.ceil(task.timeout) });
  if (requirements.length) tool.requirements = requirements;
  const software = task.configuration.filter((c) => c.type === 0 && c.name);
  if (software.length) {
    tool.hints = [
      { class: 'SoftwareRequirement', packages: software.map((c) => ({ package: c.name, ...(c.version ? { version: [c.version] } : {}) })) },
    ];
  }
  const codes = (task.custom_exit_status ?? '')
    .replace(/\s+/g, '')
    .split(',')
    .filter((c) => /^-?\d+$/.test(c))
    .map(Number);
  if (codes.length && task.custom_exit_behaviour === COMPLETION.CONTINUE) tool.successCodes = [0, ...codes];
  else if (codes.length && task.custom_exit_behaviour !== null) {
    tool.permanentFailCodes = codes;
    tool['aa:custom_exit_behaviour'] = COMPLETION_WORDS[task.custom_exit_behaviour];
  }
  if (task.incomplete_outputs_behaviour !== COMPLETION.FAIL) tool['aa:incomplete_outputs_behaviour'] = COMPLETION_WORDS[task.incomplete_outputs_behaviour];
  if (task.retries > 0) tool['aa:retries'] = task.retries;
  const other = task.configuration.filter((c) => !(c.type === 0 && c.name));
  if (other.length) tool['aa:configuration'] = other.map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== null)));
  return {
    tool: withNamespaces(tool),
    files: inGlobs.map((glob, i) => ({ id: fileInputs[i], glob })),
    values: task.parameters.map((p) => ({ id: paramIds.get(p) as string, parameter: p })),
    outputs,
  };
}

function fileInput(id: string, glob: string, binding: Fields | null): Fields {
  const format = formatOfEnding(glob);
  // The EDAM format alone says the ending only when it reads back as the same one.
  const exact = format !== null && endingOfFormat(format.replace('edam:', EDAM_NAMESPACE)) === glob;
  return {
    id,
    type: 'File',
    ...(format ? { format } : {}),
    ...(exact ? {} : { 'aa:in_glob': glob }),
    ...(binding ? { inputBinding: binding } : {}),
  };
}

function cwlType(p: Parameter): unknown {
  const type = effectiveType(p);
  if (type === 'enum' && p.enum?.length) return { type: 'enum', symbols: p.enum };
  return CWL_TYPES[type] ?? 'string';
}

function valueInput(id: string, p: Parameter, binding: Fields | null): Fields {
  const type = cwlType(p);
  let dflt: unknown;
  if (p.default !== null) {
    if (type === 'boolean') dflt = !/^(false|0)$/i.test(p.default.trim());
    else if (type === 'long' || type === 'double') dflt = Number.isFinite(Number(p.default)) ? Number(p.default) : p.default;
    else dflt = p.default;
  }
  return {
    id,
    type,
    ...(p.description ? { doc: p.description } : {}),
    ...(dflt !== undefined ? { default: dflt } : {}),
    ...(binding ? { inputBinding: binding } : {}),
  };
}

/** Namespaces for the prefixes a document uses, at its top. */
function withNamespaces(doc: Fields): Fields {
  const text = JSON.stringify(doc);
  const namespaces: Record<string, string> = {};
  if (text.includes('"edam:')) namespaces.edam = EDAM_NAMESPACE;
  if (text.includes('"aa:')) namespaces.aa = AA_NAMESPACE;
  return Object.keys(namespaces).length ? { $namespaces: namespaces, ...doc } : doc;
}

/** Nearest ancestors first: the step itself is left out. */
function ancestors(job: Job, key: string): string[] {
  const byKey = new Map(job.steps.map((s) => [s.key, s]));
  const order: string[] = [];
  let frontier = byKey.get(key)?.after ?? [];
  while (frontier.length) {
    const next: string[] = [];
    for (const k of frontier) {
      if (order.includes(k)) continue;
      order.push(k);
      next.push(...(byKey.get(k)?.after ?? []));
    }
    frontier = next;
  }
  return order;
}

/**
 * A Job as a Workflow. Its inputs are the service's fields: `input_data` (the upload) and `<task>_<alias>` per
 * parameter. A step's file input reads the nearest ancestor's output of the same ending, else the upload; edges
 * that no file carries are kept in `aa:after`. `runOf` names each tool (`#task` when packed, `task.cwl` beside it).
 */
export function jobToWorkflow(job: Job, shapes: Map<string, ToolShape>, runOf: (task: string) => string, validators: string[]): Fields {
  const inputs: Fields[] = [{ id: 'input_data', type: 'File', doc: 'The uploaded input file.' }];
  const fields = new Set<string>(['input_data']);
  const steps: Fields[] = [];
  const hasDependents = new Set(job.steps.flatMap((s) => s.after));
  const outputs: Fields[] = [];
  for (const step of job.steps) {
    const shape = shapes.get(step.task) as ToolShape;
    const stepIn: Fields[] = [];
    const carried = new Set<string>();
    for (const { id, glob } of shape.files) {
      const source = ancestors(job, step.key)
        .map((a) => {
          const upstream = shapes.get(job.steps.find((s) => s.key === a)?.task as string);
          const out = upstream?.outputs.find((o) => o.glob === glob);
          return out ? { step: a, out: out.id } : null;
        })
        .find((x) => x !== null);
      if (source) {
        carried.add(source.step);
        stepIn.push({ id, source: `${source.step}/${source.out}` });
      } else stepIn.push({ id, source: 'input_data' });
    }
    for (const { id, parameter } of shape.values) {
      const field = `${step.task}_${parameter.alias}`;
      if (!fields.has(field)) {
        fields.add(field);
        inputs.push(valueInput(field, parameter, null));
      }
      stepIn.push({ id, source: field });
    }
    const direct = step.after.filter((a) => !carried.has(a));
    steps.push({
      id: step.key,
      run: runOf(step.task),
      in: stepIn,
      out: shape.outputs.map((o) => o.id),
      ...(direct.length ? { 'aa:after': step.after } : {}),
    });
    if (!hasDependents.has(step.key)) {
      for (const o of shape.outputs) outputs.push({ id: `${step.key}_${o.id}`, type: 'File?', outputSource: `${step.key}/${o.id}` });
    }
  }
  return withNamespaces({
    cwlVersion: CWL_VERSION,
    class: 'Workflow',
    id: job.name,
    ...(job.description ? { doc: job.description } : {}),
    ...(validators.length ? { 'aa:validators': validators } : {}),
    inputs,
    outputs,
    steps,
  });
}
