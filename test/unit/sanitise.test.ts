import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { R_KEYWORDS } from '../../src-main/core/plan/r-keywords';
import { loadUnixCommands, sanitiseValue } from '../../src-main/core/plan/sanitise';

const noCommands = new Set<string>();
const scratch = mkdtempSync(join(tmpdir(), 'aa-sanitise-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('sanitiseValue', () => {
  it('passes plain words, numbers, decimals and the empty string', () => {
    for (const value of ['Value1', '123', '0.5', '.5.', 'TRUE', 'FALSE', 'in', '']) {
      expect(sanitiseValue(value, noCommands), value).toBeNull();
    }
  });

  it('refuses any punctuation or whitespace except the dot, with the v2 message', () => {
    for (const value of ['-5', 'a_b', '/tmp/x', 'two words', 'tab\there', 'line\n', 'a;b', '$x', "it's", 'x@y', '{}']) {
      expect(sanitiseValue(value, noCommands), value).toBe('Incoming data can not contain punctuation: ');
    }
  });

  it('lets non-ASCII letters and spaces through, as Python string.punctuation is ASCII', () => {
    expect(sanitiseValue('café', noCommands)).toBeNull();
    expect(sanitiseValue('a\u00a0b', noCommands)).toBeNull();
  });

  it('refuses Python keywords other than in, including True, False and None', () => {
    for (const kw of ['True', 'False', 'None', 'import', 'lambda', 'yield', 'await', 'if']) {
      expect(sanitiseValue(kw, noCommands)).toBe(`Incoming data can not contain python keyords: ${kw}`);
    }
  });

  it('matches keywords exactly, not as substrings or ignoring case', () => {
    for (const value of ['Trueish', 'true', 'IMPORT', 'meaning', 'cat5']) expect(sanitiseValue(value, noCommands), value).toBeNull();
  });

  it('refuses R base names and reserved words', () => {
    for (const kw of ['c', 't', 'T', 'F', 'q', 'pi', 'mean', 'file', 'date', 'format.packageInfo', 'NULL', 'Inf', 'NaN', 'repeat']) {
      expect(sanitiseValue(kw, noCommands), kw).toBe(`Incoming data can not contain R keywords: ${kw}`);
    }
  });

  it('checks Python keywords before R keywords', () => {
    expect(R_KEYWORDS.has('if')).toBe(true);
    expect(sanitiseValue('if', noCommands)).toBe('Incoming data can not contain python keyords: if');
  });

  it('refuses a value naming a command on the server', () => {
    const commands = new Set(['cp', 'true']);
    expect(sanitiseValue('cp', commands)).toBe('Incoming data can not contain unix commands: cp');
    expect(sanitiseValue('true', commands)).toBe('Incoming data can not contain unix commands: true');
    expect(sanitiseValue('cpx', commands)).toBeNull();
    // rm and ls are R base functions too, so A_A names them as R keywords first.
    expect(sanitiseValue('rm', new Set(['rm']))).toBe('Incoming data can not contain R keywords: rm');
  });

  it('checks punctuation first, then Python, then R, then commands', () => {
    const commands = new Set(['mean', 'None', 'x-y']);
    expect(sanitiseValue('x-y', commands)).toBe('Incoming data can not contain punctuation: ');
    expect(sanitiseValue('None', commands)).toBe('Incoming data can not contain python keyords: None');
    expect(sanitiseValue('mean', commands)).toBe('Incoming data can not contain R keywords: mean');
  });
});

describe("A_A's R keyword list", () => {
  it('has about 1,200 entries including the documented ones', () => {
    expect(R_KEYWORDS.size).toBe(1184);
    for (const kw of ['if', 'c', 't', 'T', 'F', 'q', 'pi', 'mean', 'file', 'date', 'format.packageInfo']) {
      expect(R_KEYWORDS.has(kw), kw).toBe(true);
    }
  });

  it('leaves out TRUE and FALSE so bool parameters can be sent', () => {
    expect(R_KEYWORDS.has('TRUE')).toBe(false);
    expect(R_KEYWORDS.has('FALSE')).toBe(false);
  });

  it("keeps the original's two missing commas, which glue neighbouring names together", () => {
    expect(R_KEYWORDS.has('as.data.frame.integer')).toBe(false);
    expect(R_KEYWORDS.has('as.data.frame.integeras.data.frame.list')).toBe(true);
    expect(R_KEYWORDS.has('is.ordered')).toBe(false);
    expect(R_KEYWORDS.has('is.orderedis.package_version')).toBe(true);
  });
});

describe('loadUnixCommands', () => {
  it('collects the names of regular files, following symlinks, and skips directories and missing dirs', () => {
    const bin = join(scratch, 'bin');
    const opt = join(scratch, 'opt');
    mkdirSync(bin);
    mkdirSync(opt);
    writeFileSync(join(bin, 'tool'), '#!/bin/sh\n');
    symlinkSync(join(bin, 'tool'), join(bin, 'alias'));
    symlinkSync(join(bin, 'gone'), join(bin, 'dangling'));
    mkdirSync(join(opt, 'package'));
    writeFileSync(join(opt, 'readme'), '');
    expect([...loadUnixCommands([bin, opt, join(scratch, 'missing')])].sort()).toEqual(['alias', 'readme', 'tool']);
  });

  it('finds the usual commands in the system directories by default', () => {
    const commands = loadUnixCommands();
    expect(commands.has('ls')).toBe(true);
    expect(commands.has('sh')).toBe(true);
  });
});
