// CWL → configuration: a CommandLineTool becomes a Task, a Workflow becomes a Job (the mapping A_A v2 uses, reference §7.2).
import { COMPLETION } from '../model/types';
import type { Completion, ParameterType } from '../model/types';
import type { EnvironmentInput, JobInput, ParameterInput, Problem, StepInput, TaskInput } from '../store/config-repo';
import { endingOfFormat } from './formats';
import { type CwlProcess, type Fields, fragmentOf, isObject, shortId } from './read';

/** Where a problem or note about one process is reported, and how its fields are named there. */
export interface Site {
  /** `tool.cwl`, `pack.cwl#main` or `wf.cwl#steps.align.run`. */
  where: string;
  problems: Problem[];
  notes: string[];
}

const problem = (site: Site, field: string, message: string): void => void site.problems.push({ path: `${site.where}: ${field}`, message });
const note = (site: Site, message: string): void => void site.notes.push(`${site.where}: ${message}`);

const COMPLETION_WORDS: Record<string, Completion> = { continue: COMPLETION.CONTINUE, terminate: COMPLETION.TERMINATE, fail: COMPLETION.FAIL };

const textOf = (v: unknown): string | null => (typeof v === 'string' ? v : Array.isArray(v) ? v.filter((x) => typeof x === 'string').join('\n') : null);

/**
 * A CWL list that may be written as a map (`key: {fields}` or `key: value`); the parser expands that for
 * requirements but not for hints, which it keeps as written.
 */
function listForm(value: unknown, keyField: string, valueField: string): Fields[] {
  if (Array.isArray(value)) return value.filter(isObject);
  if (!isObject(value)) return [];
  return Object.entries(value).map(([key, v]) => (isObject(v) ? { [keyField]: key, ...v } : { [keyField]: key, [valueField]: v }));
}

const requirementList = (value: unknown): Fields[] => listForm(value, 'class', 'class');

interface Binding {
  position?: number;
  prefix?: string;
  separate?: boolean;
  valueFrom?: string;
  itemSeparator?: string;
  shellQuote?: boolean;
}

/** A CWL type reduced to what a Task can hold. */
type Kind =
  | { kind: 'file' }
  | { kind: 'value'; type: ParameterType; symbols?: string[] }
  | { kind: 'unsupported'; what: string };

function kindOf(type: unknown): { kind: Kind; optional: boolean } {
  let optional = false;
  let t = type;
  if (Array.isArray(t)) {
    const rest = t.filter((x) => x !== 'null');
    optional = rest.length < t.length;
    t = rest.length === 1 ? rest[0] : rest;
  }
  if (typeof t === 'string') {
    switch (shortId(t)) {
      case 'File':
        return { kind: { kind: 'file' }, optional };
      case 'string':
        return { kind: { kind: 'value', type: 'string' }, optional };
      case 'int':
      case 'long':
        return { kind: { kind: 'value', type: 'integer' }, optional };
      case 'float':
      case 'double':
        return { kind: { kind: 'value', type: 'number' }, optional };
      case 'boolean':
        return { kind: { kind: 'value', type: 'boolean' }, optional };
      default:
        return { kind: { kind: 'unsupported', what: `type ${shortId(t)}` }, optional };
    }
  }
  if (isObject(t) && t.type === 'enum' && Array.isArray(t.symbols)) {
    return { kind: { kind: 'value', type: 'enum', symbols: t.symbols.map((s) => shortId(String(s))) }, optional };
  }
  if (isObject(t) && t.type === 'array') return { kind: { kind: 'unsupported', what: 'array types' }, optional };
  if (isObject(t) && t.type === 'record') return { kind: { kind: 'unsupported', what: 'record types' }, optional };
  return { kind: { kind: 'unsupported', what: `type ${JSON.stringify(t)}` }, optional };
}

/** A_A's stdout_glob from a CWL stdout file name: its ending (`result.txt` → `.txt`), or the whole name. */
function endingOfName(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.indexOf('.', 1);
  return dot > 0 ? base.slice(dot) : base;
}

/** A_A out_glob from a CWL glob: what follows the last wildcard or expression (`*.out` → `.out`). */
function endingOfGlob(glob: string): string {
  const cut = Math.max(glob.lastIndexOf('*'), glob.lastIndexOf('?'), glob.lastIndexOf(')'), glob.lastIndexOf(']'));
  return glob.slice(cut + 1);
}

const WHITESPACE = /\s/;

/**
 * One CommandLineTool as a Task named `name`. File inputs become `$I<n>` (in_glob from `aa:in_glob`, the EDAM
 * format or `.input`), other inputs `$P<n>` with a Parameter, output globs the out_glob, `stdout` the stdout_glob.
 */
export function toolToTask(tool: Fields, ext: CwlProcess['ext'], name: string, site: Site, inherited: EnvironmentInput[] = []): TaskInput {
  const inputs = (Array.isArray(tool.inputs) ? tool.inputs : []).filter(isObject);
  const outputs = (Array.isArray(tool.outputs) ? tool.outputs : []).filter(isObject);

  // Inputs first: each File takes the next $I, each bound value the next $P.
  const inGlobs: string[] = [];
  const parameters: ParameterInput[] = [];
  const placeholderOf = new Map<string, string>();
  const pending: Array<{ key: [number, number, string | number]; words: string[] }> = [];
  const valueInputs = new Map<string, { input: Fields; type: ParameterType; symbols?: string[] }>();

  inputs.forEach((input) => {
    const id = shortId(String(input.id ?? ''));
    const field = `inputs.${id}`;
    const { kind } = kindOf(input.type);
    const binding = (isObject(input.inputBinding) ? input.inputBinding : null) as Binding | null;
    if (kind.kind === 'unsupported') return problem(site, field, `${kind.what} are not supported (File, string, int, long, float, double, boolean or enum)`);
    if (binding?.valueFrom !== undefined) return problem(site, `${field}.inputBinding.valueFrom`, 'expressions are not supported');
    if (kind.kind === 'file') {
      const own = ext.inputs.get(id)?.in_glob;
      const formats = Array.isArray(input.format) ? input.format : input.format === undefined ? [] : [input.format];
      const fromFormat = formats.map((f) => endingOfFormat(String(f))).find((e): e is string => e !== null);
      const glob = typeof own === 'string' && own.trim() ? own.trim() : (fromFormat ?? (inGlobs.includes('.input') ? `.input${inGlobs.length + 1}` : '.input'));
      inGlobs.push(glob);
      const placeholder = `$I${inGlobs.length}`;
      placeholderOf.set(id, placeholder);
      if (binding) {
        const words = binding.prefix ? (binding.separate === false ? [binding.prefix + placeholder] : [binding.prefix, placeholder]) : [placeholder];
        pending.push({ key: [binding.position ?? 0, 1, id], words });
      }
      return;
    }
    valueInputs.set(id, { input, type: kind.type, symbols: kind.symbols });
    if (!binding) return;
    if (kind.type === 'boolean' && !binding.prefix) return note(site, `input "${id}" is a boolean without a prefix: nothing to put on the command line, left out`);
    parameters.push(parameterOf(id, input, kind.type, kind.symbols, binding));
    const placeholder = `$P${parameters.length}`;
    placeholderOf.set(id, placeholder);
    pending.push({ key: [binding.position ?? 0, 1, id], words: [placeholder] });
  });

  // `$(inputs.x)` in arguments: a value input used only there becomes a switchless parameter.
  const referenced = (id: string, field: string): string | null => {
    const known = placeholderOf.get(id);
    if (known) return known;
    const value = valueInputs.get(id);
    if (!value) {
      problem(site, field, `refers to unknown input "${id}"`);
      return null;
    }
    parameters.push({ ...parameterOf(id, value.input, value.type, value.symbols, {}), switchless: true });
    const placeholder = `$P${parameters.length}`;
    placeholderOf.set(id, placeholder);
    return placeholder;
  };
  const substitute = (text: string, field: string): string | null => {
    let ok = true;
    const out = text.replace(/\$\(([^)]*)\)/g, (whole, inner: string) => {
      const ref = /^inputs\.([A-Za-z_][\w-]*)(?:\.(path|basename))?$/.exec(inner.trim());
      if (ref) return referenced(ref[1], field) ?? whole;
      if (inner.trim() === 'runtime.outdir') return '.';
      if (inner.trim() === 'runtime.tmpdir') return '$TMP';
      ok = false;
      return whole;
    });
    if (!ok || out.includes('${')) {
      problem(site, field, `expressions other than $(inputs.NAME), $(inputs.NAME.path), $(runtime.outdir) and $(runtime.tmpdir) are not supported`);
      return null;
    }
    return out;
  };

  const args = Array.isArray(tool.arguments) ? tool.arguments : [];
  args.forEach((arg, i) => {
    const field = `arguments[${i}]`;
    const binding: Binding = typeof arg === 'string' ? { valueFrom: arg } : isObject(arg) ? (arg as Binding) : {};
    const value = binding.valueFrom === undefined ? '' : substitute(String(binding.valueFrom), field);
    if (value === null) return;
    const words = binding.prefix ? (binding.separate === false || value === '' ? [binding.prefix + value] : [binding.prefix, value]) : [value];
    pending.push({ key: [binding.position ?? 0, 0, i], words: words.filter((w) => w !== '') });
  });

  pending.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || (a.key[2] < b.key[2] ? -1 : a.key[2] > b.key[2] ? 1 : 0));
  const base = tool.baseCommand === undefined ? [] : Array.isArray(tool.baseCommand) ? tool.baseCommand.map(String) : [String(tool.baseCommand)];
  const words = [...base, ...pending.flatMap((p) => p.words)];
  // A_A splits the template on whitespace; a word with a space in it would become two.
  words.forEach((w) => {
    if (WHITESPACE.test(w)) problem(site, 'baseCommand/arguments', `"${w}" contains whitespace: command templates split words on whitespace`);
  });

  // Outputs.
  const stdoutName = typeof tool.stdout === 'string' ? substitute(tool.stdout, 'stdout') : null;
  const stdoutGlob = stdoutName ? endingOfName(stdoutName) : null;
  const outGlobs: string[] = [];
  let wantsStdout = false;
  for (const output of outputs) {
    const id = shortId(String(output.id ?? ''));
    const field = `outputs.${id}`;
    const type = Array.isArray(output.type) ? output.type.filter((t) => t !== 'null') : [output.type];
    const single = type.length === 1 ? type[0] : null;
    if (single === 'stdout') {
      wantsStdout = true;
      continue;
    }
    if (single === 'stderr') {
      note(site, `output "${id}" (stderr) is kept in the step's logs, not as a result`);
      continue;
    }
    const isFile = single === 'File' || (isObject(single) && single.type === 'array' && single.items === 'File');
    const binding = isObject(output.outputBinding) ? output.outputBinding : {};
    if (!isFile) {
      note(site, `output "${id}" is not a File: left out`);
      continue;
    }
    const globs = Array.isArray(binding.glob) ? binding.glob : binding.glob === undefined ? [] : [binding.glob];
    if (globs.length === 0) {
      problem(site, field, 'a File output needs outputBinding.glob');
      continue;
    }
    for (const glob of globs.map(String)) {
      if (stdoutName && glob === stdoutName) {
        wantsStdout = true;
        continue;
      }
      const ending = endingOfGlob(glob);
      if (!ending) problem(site, `${field}.outputBinding.glob`, `"${glob}" has no fixed ending to match result files by`);
      else if (!outGlobs.includes(ending)) outGlobs.push(ending);
    }
  }
  const effectiveStdout = stdoutGlob ?? (wantsStdout ? '.stdout' : null);
  if (wantsStdout && effectiveStdout && !outGlobs.includes(effectiveStdout)) outGlobs.push(effectiveStdout);
  if (outGlobs.length === 0) {
    outGlobs.push(effectiveStdout ?? '.stdout');
    note(site, `no File outputs: stdout (${effectiveStdout ?? '.stdout'}) is kept as the result`);
  }

  // Requirements and hints: the same reading for both, requirements winning.
  const environment: EnvironmentInput[] = [];
  const configuration: TaskInput['configuration'] = [];
  let timeout: number | null = null;
  const entries = [
    ...requirementList(tool.hints).map((r) => ({ r, hint: true })),
    ...requirementList(tool.requirements).map((r) => ({ r, hint: false })),
  ];
  for (const { r, hint } of entries) {
    const cls = shortId(String(r.class ?? ''));
    if (cls === 'EnvVarRequirement') {
      for (const def of listForm(r.envDef, 'envName', 'envValue')) {
        const env = String(def.envName ?? '');
        const value = String(def.envValue ?? '');
        if (value.includes('$(') || value.includes('${')) {
          note(site, `environment variable ${env} uses an expression: left out`);
          continue;
        }
        const at = environment.findIndex((e) => e.env === env);
        if (at >= 0) environment.splice(at, 1);
        environment.push({ env, value });
      }
    } else if (cls === 'ToolTimeLimit') {
      if (typeof r.timelimit === 'number' && r.timelimit > 0) timeout = r.timelimit;
    } else if (cls === 'SoftwareRequirement') {
      for (const pkg of listForm(r.packages, 'package', 'specs')) {
        const versions = Array.isArray(pkg.version) ? pkg.version.map(String) : [];
        configuration.push({ type: 0, name: String(pkg.package ?? ''), version: versions.length ? versions.join(', ') : null });
      }
    } else if (['InlineJavascriptRequirement', 'ShellCommandRequirement', 'ResourceRequirement', 'NetworkAccess', 'WorkReuse', 'LoadListingRequirement'].includes(cls)) {
      // Nothing a Task needs: no expressions are kept, commands never run in a shell, resources are the backend's.
    } else if (cls === 'DockerRequirement') {
      note(site, `${hint ? 'hint' : 'requirement'} DockerRequirement is ignored: tasks run on the backend as they are`);
    } else if (!hint) {
      problem(site, `requirements.${cls}`, 'is not supported');
    } else if (!cls.includes(':')) {
      note(site, `hint ${cls} is ignored`);
    }
  }
  for (const e of inherited) if (!environment.some((own) => own.env === e.env)) environment.push(e);

  // Exit codes: non-zero successCodes continue; the extension may say terminate or fail instead.
  const success = (Array.isArray(tool.successCodes) ? tool.successCodes : []).filter((c): c is number => typeof c === 'number' && c !== 0);
  const permanent = (Array.isArray(tool.permanentFailCodes) ? tool.permanentFailCodes : []).filter((c): c is number => typeof c === 'number');
  let customExitStatus: string | null = null;
  let customExitBehaviour: Completion | null = null;
  const behaviourWord = ext.own.custom_exit_behaviour;
  if (success.length) {
    customExitStatus = success.join(',');
    customExitBehaviour = COMPLETION.CONTINUE;
  } else if (permanent.length && behaviourWord !== undefined) {
    customExitStatus = permanent.join(',');
  }
  if (typeof behaviourWord === 'string' && behaviourWord.toLowerCase() in COMPLETION_WORDS && customExitStatus !== null) {
    customExitBehaviour = COMPLETION_WORDS[behaviourWord.toLowerCase()];
  }
  const incomplete = ext.own.incomplete_outputs_behaviour;
  const retries = ext.own.retries;
  const extraConfiguration = Array.isArray(ext.own.configuration) ? ext.own.configuration.filter(isObject) : [];
  for (const c of extraConfiguration) {
    configuration.push({
      type: typeof c.type === 'number' ? c.type : 0,
      name: typeof c.name === 'string' ? c.name : null,
      version: typeof c.version === 'string' ? c.version : null,
      parameters: typeof c.parameters === 'string' ? c.parameters : null,
    });
  }
  if (tool.stdin !== undefined) note(site, 'stdin is not connected: tasks read their input files by name');

  return {
    name,
    description: textOf(tool.doc) ?? textOf(tool.label),
    in_glob: (inGlobs.length ? inGlobs : ['.input']).join(','),
    out_glob: outGlobs.join(','),
    stdout_glob: effectiveStdout,
    executable: words.join(' '),
    parameters,
    environment,
    configuration,
    timeout,
    ...(customExitStatus !== null ? { custom_exit_status: customExitStatus, custom_exit_behaviour: customExitBehaviour } : {}),
    ...(typeof incomplete === 'string' && incomplete.toLowerCase() in COMPLETION_WORDS
      ? { incomplete_outputs_behaviour: COMPLETION_WORDS[incomplete.toLowerCase()] }
      : {}),
    ...(typeof retries === 'number' && Number.isInteger(retries) && retries >= 0 ? { retries } : {}),
  };
}

function parameterOf(id: string, input: Fields, type: ParameterType, symbols: string[] | undefined, binding: Binding): ParameterInput {
  const dflt = input.default;
  const description = textOf(input.doc) ?? textOf(input.label);
  return {
    alias: id,
    flag: binding.prefix ?? id,
    // A_A's sanitiser refuses lower-case true/false (they are unix commands); TRUE/FALSE are its switch values.
    default: dflt === undefined || dflt === null ? null : typeof dflt === 'boolean' ? (dflt ? 'TRUE' : 'FALSE') : String(dflt),
    bool_valued: type === 'boolean',
    spacing: binding.separate ?? true,
    switchless: !binding.prefix,
    type,
    ...(symbols ? { enum: symbols } : {}),
    ...(description ? { description } : {}),
  };
}

/** How a workflow step names the tool it runs. */
export type RunRef = { kind: 'inline'; tool: Fields } | { kind: 'file'; file: string; element: string | null } | { kind: 'bad'; message: string };

export function runRefOf(run: unknown, file: string): RunRef {
  if (isObject(run)) {
    if (run.class === 'CommandLineTool') return { kind: 'inline', tool: run };
    return { kind: 'bad', message: `runs a ${String(run.class)}: only CommandLineTool steps are supported (no nested workflows)` };
  }
  if (typeof run !== 'string' || run === '') return { kind: 'bad', message: 'required' };
  const hash = run.indexOf('#');
  const path = hash >= 0 ? run.slice(0, hash) : run;
  const element = hash >= 0 ? run.slice(hash + 1) || null : null;
  const target = path === '' || path.endsWith(`/${encodeURIComponent(file)}`) ? file : decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
  return { kind: 'file', file: target, element };
}

/** Upstream step ids a step reads from: `in` sources of the form `step/output`, plus `aa:after`. */
export function upstreamOf(step: Fields, workflowFragment: string, extAfter: unknown): string[] {
  const sources: string[] = [];
  for (const input of Array.isArray(step.in) ? step.in.filter(isObject) : []) {
    const list = Array.isArray(input.source) ? input.source : input.source === undefined ? [] : [input.source];
    for (const s of list.map(String)) {
      let ref = s.includes('#') ? fragmentOf(s) : s;
      if (workflowFragment && ref.startsWith(`${workflowFragment}/`)) ref = ref.slice(workflowFragment.length + 1);
      const slash = ref.lastIndexOf('/');
      if (slash > 0) sources.push(ref.slice(0, slash).split('/').pop() as string);
    }
  }
  if (Array.isArray(extAfter)) for (const a of extAfter) sources.push(String(a));
  return [...new Set(sources)];
}

/** The Job of a workflow whose steps' tools are already named (`taskOf` gives the Task name per step id). */
export function workflowToJob(
  workflow: Fields,
  ext: CwlProcess['ext'],
  name: string,
  taskOf: Map<string, string>,
  site: Site,
  runnable: boolean,
): JobInput {
  const fragment = fragmentOf(String(workflow.id ?? ''));
  const steps: StepInput[] = [];
  for (const step of (Array.isArray(workflow.steps) ? workflow.steps : []).filter(isObject)) {
    const key = shortId(String(step.id ?? ''));
    const field = `steps.${key}`;
    if (step.when !== undefined) problem(site, `${field}.when`, 'conditional steps are not supported');
    if (step.scatter !== undefined) problem(site, `${field}.scatter`, 'scatter is not supported');
    const task = taskOf.get(key);
    if (!task) continue;
    steps.push({ key, task, after: upstreamOf(step, fragment, ext.steps.get(key)?.after) });
  }
  const validators = ext.own.validators;
  const label = textOf(workflow.label);
  return {
    name,
    // A packed workflow's label may be what names the Job; it then says nothing more.
    description: textOf(workflow.doc) ?? (label !== name ? label : null),
    runnable,
    validators: Array.isArray(validators) ? validators.map(String) : [],
    steps,
  };
}

/** Workflow-level environment variables, inherited by the tasks its steps define. */
export function workflowEnvironment(workflow: Fields): EnvironmentInput[] {
  const out: EnvironmentInput[] = [];
  for (const r of [...requirementList(workflow.hints), ...requirementList(workflow.requirements)]) {
    if (shortId(String(r.class ?? '')) !== 'EnvVarRequirement') continue;
    for (const def of listForm(r.envDef, 'envName', 'envValue')) {
      const value = String(def.envValue ?? '');
      if (value.includes('$(') || value.includes('${')) continue;
      const env = String(def.envName ?? '');
      const at = out.findIndex((e) => e.env === env);
      if (at >= 0) out.splice(at, 1);
      out.push({ env, value });
    }
  }
  return out;
}
