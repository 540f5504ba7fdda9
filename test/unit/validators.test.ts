import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { getValidator, listValidators, registerValidator } from '../../src-main/core/validators';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'aa-validators-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
function tempFile(content: string | Buffer): string {
  const file = join(scratch, `input-${counter++}`);
  writeFileSync(file, content);
  return file;
}

async function check(name: string, file: string): Promise<boolean> {
  const validator = getValidator(name);
  if (!validator) throw new Error(`no validator ${name}`);
  return validator.check(file);
}

const NAMES = ['none', 'seq', 'pdb_file', 'png', 'gif', 'jpeg'] as const;
type Verdicts = Record<(typeof NAMES)[number], boolean>;
const text = (seq: boolean, pdb_file = false): Verdicts => ({ none: true, seq, pdb_file, png: false, gif: false, jpeg: false });
const image = (kind: 'png' | 'gif' | 'jpeg'): Verdicts => ({
  none: true, seq: false, pdb_file: false, png: kind === 'png', gif: kind === 'gif', jpeg: kind === 'jpeg',
});

// A_A's verdicts (Python 3.11, original validators.py); its exceptions (507) are false here.
const FIXTURE_VERDICTS: Record<string, Verdicts> = {
  '1iar.pdb': text(false, true), // seq: KeyError in A_A (its REMARK lines hold '>')
  '5ptpA.fasta': text(true),
  '5ptpA_badcharmsa.fasta': text(false),
  '5ptpA_badmsa.fasta': text(false),
  '5ptpA_badmultipleheader.fasta': text(false),
  '5ptpA_badseq.fasta': text(false),
  '5ptpA_msa.fasta': text(true),
  '5ptpA_noheader.fasta': text(true),
  '5ptpA_noseq.fasta': text(false),
  'empty.fasta': text(false),
  'file1.txt': text(false),
  'nucleotide.fasta': text(false),
  'prot.txt': text(true),
  'result1.txt': text(false),
  'result1.txt2': text(false),
  'test.gif': image('gif'),
  'test.jpeg': image('jpeg'),
  'test.png': image('png'),
};

describe('validator registry', () => {
  it('lists the A_A built-ins sorted by name', () => {
    expect(listValidators().map((v) => v.name)).toEqual(['gif', 'jpeg', 'none', 'pdb_file', 'png', 'seq']);
  });

  it('gives every built-in a description', () => {
    for (const v of listValidators()) expect(v.description.length).toBeGreaterThan(0);
  });

  it('returns undefined for an unknown name', () => {
    expect(getValidator('re_string')).toBeUndefined();
  });

  it('refuses a second validator under an existing name', () => {
    expect(() => registerValidator({ name: 'seq', description: 'again', check: async () => true })).toThrow(/already registered/);
  });

  it('adds a registered validator to the list and lookup', async () => {
    registerValidator({ name: 'zz_test_only', description: 'test', check: async (file) => file.endsWith('.ok') });
    expect(listValidators().at(-1)?.name).toBe('zz_test_only');
    expect(await check('zz_test_only', 'a.ok')).toBe(true);
  });
});

describe('every validator on every A_A sample file', () => {
  const cases = Object.entries(FIXTURE_VERDICTS).flatMap(([file, verdicts]) =>
    NAMES.map((name) => ({ file, name, expected: verdicts[name] })),
  );
  it.each(cases)('$name on $file is $expected', async ({ file, name, expected }) => {
    expect(await check(name, join(fixtures, file))).toBe(expected);
  });
});

const PROTEIN = 'MKVLAAGIVGLLLAQSPAWADEKTPRHWQELCSKPGYYRMLNEF'; // 44 residues, mostly non-nucleotide
const protein = (length: number): string => PROTEIN.repeat(Math.ceil(length / PROTEIN.length)).slice(0, length);

describe('seq', () => {
  it('accepts a single sequence of exactly 30 and of exactly 1500 residues', async () => {
    expect(await check('seq', tempFile(`>a\n${protein(30)}\n`))).toBe(true);
    expect(await check('seq', tempFile(`>a\n${protein(1500)}\n`))).toBe(true);
  });

  it('rejects 29 and 1501 residues', async () => {
    expect(await check('seq', tempFile(`>a\n${protein(29)}\n`))).toBe(false);
    expect(await check('seq', tempFile(`>a\n${protein(1501)}\n`))).toBe(false);
  });

  it('joins a sequence wrapped over lines and ignores ; comment lines in single mode', async () => {
    const wrapped = protein(200).match(/.{1,60}/g)?.join('\n');
    expect(await check('seq', tempFile(`;comment\n>a\n${wrapped}\n;another\n`))).toBe(true);
  });

  it('treats lower case residues as valid', async () => {
    expect(await check('seq', tempFile(`>a\n${protein(100).toLowerCase()}\n`))).toBe(true);
  });

  it('reads CRLF line endings like LF', async () => {
    const lines = ['>a', protein(60), protein(60)].join('\r\n');
    expect(await check('seq', tempFile(lines + '\r\n'))).toBe(true);
  });

  it('rejects sequences that are at least 95% ACGTUN as nucleotide', async () => {
    // 19 of 20 are nucleotide letters: exactly 95%.
    expect(await check('seq', tempFile(`>a\n${'ACGTACGTACGTACGTACGW'.repeat(3)}\n`))).toBe(false);
    // 18 of 20: 90% passes.
    expect(await check('seq', tempFile(`>a\n${'ACGTACGTACGTACGTACWW'.repeat(3)}\n`))).toBe(true);
  });

  it('rejects letters outside the protein alphabet, digits, spaces and stop codons', async () => {
    for (const bad of ['B', 'J', 'O', 'U', 'Z', '*', '1', ' ']) {
      expect(await check('seq', tempFile(`>a\n${protein(50)}${bad}${protein(50)}\n`)), bad).toBe(false);
    }
  });

  it("accepts the non-ASCII letters Python's case-insensitive match folds onto the alphabet", async () => {
    expect(await check('seq', tempFile(`>a\n${protein(50)}\u212a\u017f${protein(50)}\n`))).toBe(true);
  });

  it('counts every > in the text, so a > inside a single sequence file switches to alignment mode', async () => {
    // Two '>' but only one header line: one "sequence" that includes the second header's text.
    expect(await check('seq', tempFile(`>a>b\n${protein(100)}\n`))).toBe(true);
    expect(await check('seq', tempFile(`${protein(100)}\n>a>b\n${protein(100)}\n`))).toBe(false);
  });

  it('accepts an alignment of equal-length sequences', async () => {
    const msa = ['>a', protein(120), '>b', protein(120), '>c', protein(120)].join('\n');
    expect(await check('seq', tempFile(msa))).toBe(true);
  });

  it('rejects an alignment whose sequences differ in length', async () => {
    const msa = ['>a', protein(120), '>b', protein(121)].join('\n');
    expect(await check('seq', tempFile(msa))).toBe(false);
  });

  it('rejects an alignment with text or a blank line before the first header', async () => {
    expect(await check('seq', tempFile(['junk', '>a', protein(50), '>b', protein(50)].join('\n')))).toBe(false);
    expect(await check('seq', tempFile(['', '>a', protein(50), '>b', protein(50)].join('\n')))).toBe(false);
  });

  it('rejects an alignment where one sequence fails the sequence test', async () => {
    const msa = ['>a', protein(50), '>b', protein(49) + 'B'].join('\n');
    expect(await check('seq', tempFile(msa))).toBe(false);
  });

  it('rejects invalid UTF-8 and binary data instead of raising', async () => {
    expect(await check('seq', tempFile(Buffer.concat([Buffer.from(`>a\n${protein(50)}`), Buffer.from([0xff, 0xfe])])))).toBe(false);
  });

  it('keeps a byte-order mark as a character, which is not a residue', async () => {
    expect(await check('seq', tempFile(`\ufeff${protein(100)}\n`))).toBe(false);
  });

  it('gives up on a huge sequence early instead of reading it all', async () => {
    const file = tempFile(`>a\n${'M'.repeat(20 * 1024 * 1024)}\n`);
    const started = performance.now();
    expect(await check('seq', file)).toBe(false);
    // Reading 20 MiB character by character takes far longer than the few chunks needed here.
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('pdb_file', () => {
  it('accepts an ATOM record in any case with any whitespace before the serial number', async () => {
    expect(await check('pdb_file', tempFile('HEADER x\natom \t 1 N\n'))).toBe(true);
    expect(await check('pdb_file', tempFile('ATOM\n42'))).toBe(true);
  });

  it('rejects ATOM without a number after whitespace', async () => {
    expect(await check('pdb_file', tempFile('ATOM x\nATOM1\nHETATM\n'))).toBe(false);
  });

  it('finds a record split across read chunks', async () => {
    const pad = 'REMARK'.padEnd(64 * 1024 - 2, ' ');
    expect(await check('pdb_file', tempFile(`${pad}ATOM${' '.repeat(70 * 1024)}7\n`))).toBe(true);
  });

  it('rejects invalid UTF-8 before any ATOM record', async () => {
    expect(await check('pdb_file', tempFile(Buffer.concat([Buffer.from([0xc3, 0x28]), Buffer.from('\nATOM 1\n')])))).toBe(false);
  });

  it('stops reading at the first ATOM record', async () => {
    // Bytes after the record are never decoded (A_A decoded everything and would have raised).
    expect(await check('pdb_file', tempFile(Buffer.concat([Buffer.from('ATOM 1\n'), Buffer.from([0xff])])))).toBe(true);
  });
});

describe('image validators', () => {
  const jfif = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0')]);
  const exif = Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x10, ...Buffer.from('Exif\0')]);
  const raw = Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00]);

  it('accepts JFIF, Exif and raw JPEG headers as jpeg', async () => {
    for (const header of [jfif, exif, raw]) expect(await check('jpeg', tempFile(header))).toBe(true);
  });

  it('accepts GIF87a and GIF89a as gif', async () => {
    expect(await check('gif', tempFile('GIF87a\x01\x00'))).toBe(true);
    expect(await check('gif', tempFile('GIF89a\x01\x00'))).toBe(true);
  });

  it('lets the jpeg test win over gif, as imghdr tests jpeg first', async () => {
    const file = tempFile('GIF89aJFIF');
    expect(await check('gif', file)).toBe(false);
    expect(await check('jpeg', file)).toBe(true);
  });

  it('rejects empty and truncated files', async () => {
    expect(await check('png', tempFile(''))).toBe(false);
    expect(await check('png', tempFile('\x89PNG'))).toBe(false);
  });

  it('rejects a missing file by rejecting the promise', async () => {
    await expect(check('png', join(scratch, 'does-not-exist'))).rejects.toThrow(/ENOENT/);
  });
});
