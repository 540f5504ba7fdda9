// Script backends: the A_A-style headers, value quoting, and each installed interpreter run for real.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAttempt } from '../../src-worker/exec/run';
import {
  INTERPRETERS,
  SCRIPT_FILE_PREFIX,
  matchInputs,
  rString,
  renderScript,
  shString,
  type ScriptContext,
} from '../../src-worker/exec/scripts';
import type { AttemptSpec, ScriptInterpreter } from '../../src-worker/exec/types';

let root: string;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'aa-worker-scripts-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const which = (program: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Every quoting hazard at once: both quotes, backslash, newline, tab, $(), backticks, non-ASCII, astral. */
const NASTY = `it's "q" \\ $(id) \`x\` %s\nnext\tline ü 😀 ;rm -rf /`;
const ID = 'f7a314fe';

const ctx = (over: Partial<ScriptContext> = {}): ScriptContext => ({
  cwd: '/work/sub',
  id: ID,
  in_globs: ['.input'],
  out_globs: ['.out'],
  params: [],
  env: {},
  files: [`${ID}.input`],
  ...over,
});

describe('matchInputs', () => {
  it('picks the file whose name ends with each in_glob, the last in sorted order when several do (as A_A)', () => {
    expect(matchInputs(['.input', '.pdb'], ['b.input', 'a.input', 'x.pdb', 'y.txt'])).toEqual(['b.input', 'x.pdb']);
  });

  it('leaves an in_glob without a matching file, or an empty one, unbound', () => {
    expect(matchInputs(['.fasta', ''], ['a.input'])).toEqual([undefined, undefined]);
  });

  it('never offers a script file as an input', () => {
    expect(matchInputs(['.py'], [`${SCRIPT_FILE_PREFIX}abc.py`])).toEqual([undefined]);
  });
});

describe('renderScript headers', () => {
  it('python: chdir, environment, I/O handles, P dict or True, and a footer that closes the handles', () => {
    const text = renderScript('python', 'print(1)', ctx({
      env: { GREETING: 'hi' },
      params: [
        { flag: '-k', value: '5', bool: false },
        { flag: '-v', value: null, bool: true },
      ],
    }));
    expect(text).toBe(
      [
        'import os',
        'os.chdir("/work/sub")',
        'os.environ["GREETING"] = "hi"',
        `I1 = open("${ID}.input", 'r')`,
        `O1 = open("${ID}.out", 'w')`,
        'P1 = {"-k": "5"}',
        'P2 = True',
        'print(1)',
        'I1.close()',
        'O1.close()',
        '',
      ].join('\n'),
    );
  });

  it('python and R: a switch is True even when its value says FALSE (A_A behaviour)', () => {
    const params = [{ flag: '-v', value: 'FALSE', bool: true }];
    expect(renderScript('python', '', ctx({ params }))).toContain('P1 = True\n');
    expect(renderScript('R', '', ctx({ params }))).toContain('P1 <- TRUE\n');
  });

  it('R: setwd, Sys.setenv, file connections, P list, and a footer that closes the connections', () => {
    const text = renderScript('R', 'cat(1)', ctx({
      env: { GREETING: 'hi' },
      params: [{ flag: '-k', value: '5', bool: false }],
    }));
    expect(text).toBe(
      [
        'setwd("/work/sub")',
        'Sys.setenv("GREETING" = "hi")',
        `I1 <- file("${ID}.input", 'r')`,
        `O1 <- file("${ID}.out", 'w')`,
        'P1 <- list(); P1[["-k"]] <- "5"',
        'cat(1)',
        'close(I1)',
        'close(O1)',
        '',
      ].join('\n'),
    );
  });

  it('bash: file NAMES in I/O variables, P holds the value or true, P_FLAG the flag, no footer', () => {
    const text = renderScript('bash', 'cat "$I1"', ctx({
      params: [
        { flag: '-k', value: '5', bool: false },
        { flag: '-v', value: null, bool: true },
      ],
    }));
    expect(text).toBe(
      [
        "cd '/work/sub' || exit 1",
        `I1='${ID}.input'`,
        `O1='${ID}.out'`,
        "P1='5'",
        "P1_FLAG='-k'",
        'P2=true',
        "P2_FLAG='-v'",
        'cat "$I1"',
        '',
        '',
      ].join('\n'),
    );
  });

  it('node: chdir and const file-name strings, P object or true', () => {
    const text = renderScript('node', 'console.log(I1)', ctx({
      params: [
        { flag: '-k', value: '5', bool: false },
        { flag: '-v', value: null, bool: true },
      ],
    }));
    expect(text.split('\n').slice(0, 5)).toEqual([
      'process.chdir("/work/sub");',
      `const I1 = "${ID}.input";`,
      `const O1 = "${ID}.out";`,
      'const P1 = { "-k": "5" };',
      'const P2 = true;',
    ]);
  });

  it('numbers I by in_glob position, skipping the variable of an in_glob with no file', () => {
    const text = renderScript('python', '', ctx({ in_globs: ['.fasta', '.input'] }));
    expect(text).not.toContain('I1 =');
    expect(text).toContain(`I2 = open("${ID}.input", 'r')`);
  });
});

describe('value quoting', () => {
  it('rString escapes quotes, backslashes, control and non-ASCII characters', () => {
    expect(rString(`a"b\\c\nd\te\x01f ü 😀 'g'`)).toBe(`"a\\"b\\\\c\\nd\\te\\x01f \\U{fc} \\U{1f600} 'g'"`);
  });

  it('rString refuses NUL, which no R string can hold', () => {
    expect(() => rString('a\0b')).toThrow(/NUL/);
  });

  it('shString round-trips any value through bash unchanged', () => {
    const out = execFileSync('bash', ['-c', `v=${shString(NASTY)}; printf %s "$v"`], { encoding: 'utf8' });
    expect(out).toBe(NASTY);
  });

  it('shString refuses NUL, which no shell variable can hold', () => {
    expect(() => shString('a\0b')).toThrow(/NUL/);
  });
});

/** A fresh working directory holding `<id>.input`. */
async function workdir(input: string): Promise<string> {
  n += 1;
  const cwd = join(root, `w${n}`);
  await mkdir(cwd);
  await writeFile(join(cwd, `${ID}.input`), input);
  return cwd;
}

function scriptSpec(cwd: string, interpreter: ScriptInterpreter, script: string, over: Partial<AttemptSpec> = {}): AttemptSpec {
  return {
    kind: 'script',
    interpreter,
    script,
    in_globs: ['.input'],
    out_globs: ['.out'],
    id: ID,
    script_params: [
      { flag: '-k', value: NASTY, bool: false },
      { flag: '-v', value: null, bool: true },
    ],
    cwd,
    env: { AA_GREETING: 'hello' },
    stdout_file: join(cwd, `${ID}.stdout`),
    stderr_file: join(cwd, `${ID}.stderr`),
    output_cap_bytes: 1024 * 1024,
    timeout_ms: 20_000,
    ...over,
  };
}

/**
 * Per interpreter, a code block that upper-cases I1 into O1, prints P1's value, whether P2 is set and the task's
 * environment variable, then exits 3.
 */
const PROGRAMS: Record<ScriptInterpreter, { ok: string; exit3: string; crash: string; crashText: RegExp }> = {
  python: {
    ok: [
      'O1.write(I1.read().upper())',
      "print(P1['-k'])",
      'print(P2)',
      "print(os.environ['AA_GREETING'])",
    ].join('\n'),
    exit3: 'import sys\nsys.exit(3)',
    crash: "raise ValueError('boom')",
    crashText: /ValueError: boom/,
  },
  R: {
    ok: [
      'writeLines(toupper(readLines(I1)), O1)',
      "cat(P1[['-k']], '\\n', sep='')",
      "cat(P2, '\\n', sep='')",
      "cat(Sys.getenv('AA_GREETING'), '\\n', sep='')",
    ].join('\n'),
    exit3: 'quit(status = 3)',
    crash: "stop('boom')",
    crashText: /boom/,
  },
  bash: {
    ok: [
      'tr a-z A-Z < "$I1" > "$O1"',
      'printf "%s\\n" "$P1"',
      'if $P2; then echo True; fi',
      'echo "$AA_GREETING"',
    ].join('\n'),
    exit3: 'exit 3',
    crash: 'no-such-command-in-bash-xyz',
    crashText: /no-such-command-in-bash-xyz/,
  },
  node: {
    ok: [
      "const fs = require('node:fs');",
      "fs.writeFileSync(O1, fs.readFileSync(I1, 'utf8').toUpperCase());",
      "console.log(P1['-k']);",
      "console.log(P2 === true ? 'True' : 'False');",
      'console.log(process.env.AA_GREETING);',
    ].join('\n'),
    exit3: 'process.exit(3);',
    crash: "throw new Error('boom');",
    crashText: /Error: boom/,
  },
};

const TRUE_WORD: Record<ScriptInterpreter, string> = { python: 'True', R: 'TRUE', bash: 'True', node: 'True' };

for (const interpreter of Object.keys(INTERPRETERS) as ScriptInterpreter[]) {
  const program = INTERPRETERS[interpreter].program;
  const installed = which(program);
  const p = PROGRAMS[interpreter];

  // Skipped only when the interpreter's program is not on PATH; the test name says so.
  describe.skipIf(!installed)(`${interpreter} scripts (${installed ? `${program} found` : `skipped: ${program} not on PATH`})`, () => {
    it('reads I1, writes O1, sees P1, P2 and the task environment, with stdout in stdout_file', async () => {
      const cwd = await workdir('abc\n');
      const spec = scriptSpec(cwd, interpreter, p.ok);
      const o = await runAttempt(spec);
      // Nothing on stderr, so no file for it.
      expect(existsSync(spec.stderr_file)).toBe(false);
      expect(o).toMatchObject({ exit_code: 0, spawn_error: null });
      expect(readFileSync(join(cwd, `${ID}.out`), 'utf8')).toBe('ABC\n');
      expect(readFileSync(spec.stdout_file, 'utf8')).toBe(`${NASTY}\n${TRUE_WORD[interpreter]}\nhello\n`);
    });

    it('returns the script’s own exit status (A_A always returned 0)', async () => {
      const cwd = await workdir('');
      const o = await runAttempt(scriptSpec(cwd, interpreter, p.exit3));
      expect(o.exit_code).toBe(3);
    });

    it('puts a failing script’s error in stderr_file and returns non-zero', async () => {
      const cwd = await workdir('');
      const spec = scriptSpec(cwd, interpreter, p.crash);
      const o = await runAttempt(spec);
      expect(o.exit_code).not.toBe(0);
      expect(readFileSync(spec.stderr_file, 'utf8')).toMatch(p.crashText);
    });

    it('removes its script file from cwd after the run', async () => {
      const cwd = await workdir('');
      await runAttempt(scriptSpec(cwd, interpreter, p.exit3));
      expect((await readdir(cwd)).filter((f) => f.startsWith(SCRIPT_FILE_PREFIX))).toEqual([]);
    });
  });
}

describe('scripts sharing a working directory', () => {
  it('run side by side without touching each other’s script file (parallel steps share cwd)', async () => {
    const cwd = await workdir('');
    const specs = [1, 2, 3].map((k) =>
      scriptSpec(cwd, 'bash', `sleep 0.1; echo ${k}`, {
        stdout_file: join(cwd, `${k}.stdout`),
        stderr_file: join(cwd, `${k}.stderr`),
      }),
    );
    const outcomes = await Promise.all(specs.map((s) => runAttempt(s)));
    expect(outcomes.map((o) => o.exit_code)).toEqual([0, 0, 0]);
    expect(specs.map((s) => readFileSync(s.stdout_file, 'utf8'))).toEqual(['1\n', '2\n', '3\n']);
  });
});

describe('script failures before start', () => {
  it('reports a missing interpreter as "command not found"', async () => {
    const cwd = await workdir('');
    const o = await runAttempt(scriptSpec(cwd, 'python', 'pass', { env: { PATH: '/aa-nowhere' } }));
    expect(o.spawn_error).toBe('command not found: python3');
    expect((await readdir(cwd)).filter((f) => f.startsWith(SCRIPT_FILE_PREFIX))).toEqual([]);
  });

  it('reports an unknown interpreter', async () => {
    const cwd = await workdir('');
    const o = await runAttempt(scriptSpec(cwd, 'cobol' as ScriptInterpreter, ''));
    expect(o.spawn_error).toBe('unknown script interpreter: cobol');
  });

  it('reports a value the header cannot hold instead of running a mangled script', async () => {
    const cwd = await workdir('');
    const o = await runAttempt(
      scriptSpec(cwd, 'bash', 'true', { script_params: [{ flag: '-k', value: 'a\0b', bool: false }] }),
    );
    expect(o.spawn_error).toBe('a shell variable cannot contain a NUL character');
    expect(o.pid).toBeNull();
  });

  it('reports a missing working directory', async () => {
    const cwd = join(root, 'absent');
    const o = await runAttempt(scriptSpec(cwd, 'bash', 'true'));
    expect(o.spawn_error).toBe(`working directory not found: ${cwd}`);
  });
});
