// Owns the `pdb_file` validator: UTF-8 text with an ATOM record (`ATOM\s+\d+`, any case) somewhere.
import { scanText } from '../read';
import { registerValidator } from '../registry';

// Python's Unicode \s and \d, which A_A's str pattern uses; JavaScript's \s differs slightly.
const PY_SPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const ATOM_RECORD = new RegExp(`ATOM${PY_SPACE}+\\p{Nd}`, 'iu');
// The end of a chunk that could still grow into a match once the next chunk arrives.
const PARTIAL_RECORD = new RegExp(`A(?:T(?:O(?:M${PY_SPACE}*)?)?)?$`, 'iu');
const PARTIAL_WITH_SPACE = new RegExp(`^ATOM${PY_SPACE}+$`, 'iu');

/**
 * Streams the file and stops at the first ATOM record, so only the part before it must be valid
 * UTF-8. (A_A decoded the whole upload first and answered 507 for invalid bytes after it.)
 */
export async function isPdbFile(file: string): Promise<boolean> {
  let carry = '';
  const end = await scanText(file, (chunk) => {
    const text = carry + chunk;
    if (ATOM_RECORD.test(text)) return false;
    const partial = PARTIAL_RECORD.exec(text)?.[0] ?? '';
    // A run of whitespace after ATOM may be arbitrarily long; one space stands for all of it.
    carry = PARTIAL_WITH_SPACE.test(partial) ? 'ATOM ' : partial;
    return true;
  });
  return end === 'stopped';
}

registerValidator({
  name: 'pdb_file',
  description: 'A PDB structure file: text containing at least one ATOM record.',
  check: isPdbFile,
});
