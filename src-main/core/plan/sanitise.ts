// Owns the A_A parameter-value sanitiser: which submitted values are refused, and the exact detail message.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { R_KEYWORDS } from './r-keywords';

/** Python 3 `keyword.kwlist` without `in`, as A_A removes it; True, False and None stay. */
const PYTHON_KEYWORDS: ReadonlySet<string> = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue',
  'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'is',
  'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);

/** Python `string.punctuation + string.whitespace` minus '.', so decimals such as 0.5 pass. */
const FORBIDDEN_CHAR = /[!"#$%&'()*+,\-/:;<=>?@[\\\]^_`{|}~ \t\n\r\v\f]/;

/** Where A_A looks for command names on the web server. */
export const UNIX_COMMAND_DIRS: readonly string[] = [
  '/bin', '/usr/bin', '/sbin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/opt',
];

/**
 * Names of the regular files (symlinks followed, as Python's isfile does) directly inside
 * `dirs`. Missing or unreadable directories are skipped. Read once at start-up and reuse:
 * A_A re-lists them for every field of every request.
 */
export function loadUnixCommands(dirs: readonly string[] = UNIX_COMMAND_DIRS): Set<string> {
  const names = new Set<string>();
  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of entries) {
      try {
        if (statSync(join(dir, name)).isFile()) names.add(name);
      } catch {
        // A dangling symlink is not a file to Python either.
      }
    }
  }
  return names;
}

/**
 * Returns the detail message explaining why A_A would refuse `value`, or null when it passes.
 * Checks run in A_A's order; keywords and commands must match the whole value exactly.
 */
export function sanitiseValue(value: string, unixCommands: ReadonlySet<string>): string | null {
  // A_A v1 concatenated an unbound variable here (HTTP 500); v2's fixed message keeps the trailing space.
  if (FORBIDDEN_CHAR.test(value)) return 'Incoming data can not contain punctuation: ';
  if (PYTHON_KEYWORDS.has(value)) return `Incoming data can not contain python keyords: ${value}`;
  if (R_KEYWORDS.has(value)) return `Incoming data can not contain R keywords: ${value}`;
  if (unixCommands.has(value)) return `Incoming data can not contain unix commands: ${value}`;
  return null;
}
