// Script backends: the A_A-style header each interpreter gets (I<i>, O<i>, P<i>) and the file that runs it.
//
// What a code block sees, per interpreter (i counts from 1 in the order of in_globs, out_globs, script_params):
//   python  `import os` and chdir, task environment set in os.environ, I<i> = open(<input>, 'r'),
//           O<i> = open(<id + out_glob>, 'w'), P<i> = {flag: 'value'} or True; a footer closes I/O handles.
//   R       setwd, Sys.setenv, I<i> <- file(<input>, 'r'), O<i> <- file(<id + out_glob>, 'w'),
//           P<i> <- list(); P<i>[['flag']] <- 'value', or P<i> <- TRUE; a footer closes the connections.
//   bash    shell variables holding FILE NAMES, nothing opened: I<i>, O<i>; P<i> holds the value (or `true` for a
//           switch) and P<i>_FLAG the flag.
//   node    CommonJS (`require` works); const I<i> / O<i> are file-name strings, nothing opened;
//           const P<i> = {flag: 'value'} or true.
// <input> is the file in cwd whose name ends with in_glob i (the last one in sorted order when several do, as in
// A_A); the variable is left undefined when there is none. Unlike A_A, the interpreter's real exit status is kept.
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AttemptSpec, ScriptInterpreter, ScriptParam } from './types';

/** A script that cannot be written as asked (bad spec or a value the header cannot hold). */
export class ScriptError extends Error {}

interface Interpreter {
  program: string;
  extension: string;
}

export const INTERPRETERS: Record<ScriptInterpreter, Interpreter> = {
  python: { program: 'python3', extension: '.py' },
  R: { program: 'Rscript', extension: '.R' },
  bash: { program: 'bash', extension: '.sh' },
  node: { program: 'node', extension: '.cjs' },
};

/** Script files are hidden and carry this prefix so input matching and result collection can skip them. */
export const SCRIPT_FILE_PREFIX = '.aa-script-';

export interface ScriptContext {
  cwd: string;
  id: string;
  in_globs: string[];
  out_globs: string[];
  params: ScriptParam[];
  env: Record<string, string>;
  /** Names of the files in cwd, used to find the input for each in_glob. */
  files: string[];
}

/** The input file for each in_glob (undefined when none matches). */
export function matchInputs(inGlobs: string[], files: string[]): Array<string | undefined> {
  const sorted = files.filter((f) => !f.startsWith(SCRIPT_FILE_PREFIX)).sort();
  return inGlobs.map((glob) => {
    // An empty glob would match every file; A_A configurations with none mean "no input".
    if (glob === '') return undefined;
    for (let k = sorted.length - 1; k >= 0; k--) if (sorted[k].endsWith(glob)) return sorted[k];
    return undefined;
  });
}

/** The whole file an interpreter runs: header, the code block, footer. */
export function renderScript(interpreter: ScriptInterpreter, script: string, ctx: ScriptContext): string {
  const inputs = matchInputs(ctx.in_globs, ctx.files);
  const outputs = ctx.out_globs.map((g) => ctx.id + g);
  const { header, footer } = RENDERERS[interpreter](ctx, inputs, outputs);
  return `${header.join('\n')}\n${script}\n${footer.join('\n')}\n`;
}

type Renderer = (
  ctx: ScriptContext,
  inputs: Array<string | undefined>,
  outputs: string[],
) => { header: string[]; footer: string[] };

const RENDERERS: Record<ScriptInterpreter, Renderer> = {
  python(ctx, inputs, outputs) {
    const q = JSON.stringify;
    // chdir and os.environ repeat what the process already has, so sitecustomize and friends cannot override them.
    const header = ['import os', `os.chdir(${q(ctx.cwd)})`];
    const footer: string[] = [];
    for (const [k, v] of Object.entries(ctx.env)) header.push(`os.environ[${q(k)}] = ${q(v)}`);
    inputs.forEach((file, i) => {
      if (file === undefined) return;
      header.push(`I${i + 1} = open(${q(file)}, 'r')`);
      footer.push(`I${i + 1}.close()`);
    });
    outputs.forEach((file, i) => {
      header.push(`O${i + 1} = open(${q(file)}, 'w')`);
      footer.push(`O${i + 1}.close()`);
    });
    ctx.params.forEach((p, i) => {
      header.push(`P${i + 1} = ${p.bool || p.value === null ? 'True' : `{${q(p.flag)}: ${q(p.value)}}`}`);
    });
    return { header, footer };
  },

  R(ctx, inputs, outputs) {
    const q = rString;
    // setwd and Sys.setenv repeat what the process already has, so .Rprofile/.Renviron cannot override them.
    const header = [`setwd(${q(ctx.cwd)})`];
    const footer: string[] = [];
    for (const [k, v] of Object.entries(ctx.env)) header.push(`Sys.setenv(${q(k)} = ${q(v)})`);
    inputs.forEach((file, i) => {
      if (file === undefined) return;
      header.push(`I${i + 1} <- file(${q(file)}, 'r')`);
      footer.push(`close(I${i + 1})`);
    });
    outputs.forEach((file, i) => {
      header.push(`O${i + 1} <- file(${q(file)}, 'w')`);
      footer.push(`close(O${i + 1})`);
    });
    ctx.params.forEach((p, i) => {
      header.push(
        p.bool || p.value === null
          ? `P${i + 1} <- TRUE`
          : `P${i + 1} <- list(); P${i + 1}[[${q(p.flag)}]] <- ${q(p.value)}`,
      );
    });
    return { header, footer };
  },

  bash(ctx, inputs, outputs) {
    const q = shString;
    const header = [`cd ${q(ctx.cwd)} || exit 1`];
    inputs.forEach((file, i) => {
      if (file !== undefined) header.push(`I${i + 1}=${q(file)}`);
    });
    outputs.forEach((file, i) => header.push(`O${i + 1}=${q(file)}`));
    ctx.params.forEach((p, i) => {
      header.push(`P${i + 1}=${p.bool || p.value === null ? 'true' : q(p.value)}`);
      header.push(`P${i + 1}_FLAG=${q(p.flag)}`);
    });
    // No footer: the code block's last command decides the exit status.
    return { header, footer: [] };
  },

  node(ctx, inputs, outputs) {
    const q = JSON.stringify;
    const header = [`process.chdir(${q(ctx.cwd)});`];
    inputs.forEach((file, i) => {
      if (file !== undefined) header.push(`const I${i + 1} = ${q(file)};`);
    });
    outputs.forEach((file, i) => header.push(`const O${i + 1} = ${q(file)};`));
    ctx.params.forEach((p, i) => {
      header.push(`const P${i + 1} = ${p.bool || p.value === null ? 'true' : `{ ${q(p.flag)}: ${q(p.value)} }`};`);
    });
    return { header, footer: [] };
  },
};

/**
 * An R string literal. Everything outside printable ASCII is escaped, so the result reads the same in any locale
 * Rscript runs under; NUL cannot be held by an R string at all.
 */
export function rString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp === 0) throw new ScriptError('an R string cannot contain a NUL character');
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    // A lone surrogate is written as U+FFFD, as Node's UTF-8 encoder would write it.
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\U{fffd}';
    else if (cp > 0x7e) out += `\\U{${cp.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A single-quoted shell word; bash cannot hold NUL in a variable. */
export function shString(s: string): string {
  if (s.includes('\0')) throw new ScriptError('a shell variable cannot contain a NUL character');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Writes the script for `spec` into its cwd; returns the argv that runs it and the file to remove afterwards. */
export async function writeScript(spec: AttemptSpec): Promise<{ argv: string[]; path: string }> {
  const interpreter = spec.interpreter;
  if (interpreter === undefined || !(interpreter in INTERPRETERS)) {
    throw new ScriptError(`unknown script interpreter: ${String(interpreter)}`);
  }
  if (typeof spec.script !== 'string') throw new ScriptError('script task has no script');
  const { program, extension } = INTERPRETERS[interpreter];
  const inGlobs = spec.in_globs ?? [];
  const text = renderScript(interpreter, spec.script, {
    cwd: spec.cwd,
    id: spec.id ?? '',
    in_globs: inGlobs,
    out_globs: spec.out_globs ?? [],
    params: spec.script_params ?? [],
    env: spec.env,
    files: inGlobs.length > 0 ? await readdir(spec.cwd) : [],
  });
  const path = join(spec.cwd, `${SCRIPT_FILE_PREFIX}${randomBytes(6).toString('hex')}${extension}`);
  // 'wx': never overwrite a file that is already there.
  await writeFile(path, text, { flag: 'wx' });
  return { argv: [program, path], path };
}
