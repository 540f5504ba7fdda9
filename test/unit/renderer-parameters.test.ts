// The typed parameter editor's rules: what a type change keeps and drops, the bool switch, and lists and bounds as typed.
import { describe, expect, it } from 'vitest';
import type { Parameter } from '../../src-main/core/model/types';
import { checkParameterDefinition } from '../../src-main/core/openapi/contract';
import { PARAMETER_TYPES, optionalNumber, parseList, typeOf, withSwitch, withType } from '../../src-renderer/src/pages/designer/parameters';

const base: Parameter = { flag: '-n', alias: 'n', default: '3', bool_valued: false, spacing: true, switchless: false };
const serverProblems = (p: Parameter) => checkParameterDefinition(p as unknown as Record<string, unknown>, 'p', (name) => ['seq', 'png'].includes(name));

describe('parameter types in the task editor', () => {
  it('reads an untyped parameter as the server does: a switch is boolean, anything else text', () => {
    expect(typeOf(base)).toBe('string');
    expect(typeOf({ ...base, bool_valued: true })).toBe('boolean');
    expect(typeOf({ ...base, type: 'enum' })).toBe('enum');
  });

  it('drops the constraints of the old type and keeps the description on a type change', () => {
    const text: Parameter = { ...base, type: 'string', pattern: '^[a-z]+$', max_length: 5, description: 'How many' };
    const integer = withType(text, 'integer');
    expect(integer).toEqual({ ...base, type: 'integer', description: 'How many' });
    const bounded = withType({ ...integer, min: 1, max: 9 }, 'number');
    expect(bounded).toMatchObject({ type: 'number', min: 1, max: 9 });
    expect(withType(bounded, 'string')).not.toHaveProperty('min');
  });

  it('starts an enum with no values and a file with no default', () => {
    expect(withType(base, 'enum').enum).toEqual([]);
    expect(withType(base, 'file').default).toBeNull();
  });

  it('keeps an on/off switch only for booleans, and the switch makes a parameter boolean', () => {
    const on = withSwitch({ ...base, default: null, type: 'integer', min: 1 }, true);
    expect(on).toMatchObject({ type: 'boolean', bool_valued: true });
    expect(on).not.toHaveProperty('min');
    expect(withType(on, 'string').bool_valued).toBe(false);
    const off = withSwitch(on, false);
    expect(off.bool_valued).toBe(false);
    expect(typeOf(off)).toBe('string');
  });

  it('gives the server a definition it accepts for every type the menu offers', () => {
    for (const type of PARAMETER_TYPES) {
      let p = withType({ ...base, default: null }, type);
      if (type === 'enum') p = { ...p, enum: parseList('fast, slow') };
      if (type === 'file') p = { ...p, validators: ['seq'] };
      expect(serverProblems(p), type).toEqual([]);
    }
    // And the server still catches what the editor leaves to it: an enum needs values.
    expect(serverProblems(withType(base, 'enum')).map((x) => x.path)).toContain('p.enum');
  });

  it('reads enum values as typed, without blanks or repeats', () => {
    expect(parseList('fast, slow,, fast\ncareful ,')).toEqual(['fast', 'slow', 'careful']);
    expect(parseList('  ')).toEqual([]);
  });

  it('reads an empty or unreadable bound as no bound', () => {
    expect(optionalNumber('')).toBeUndefined();
    expect(optionalNumber('abc')).toBeUndefined();
    expect(optionalNumber('-2.5')).toBe(-2.5);
    expect(optionalNumber('0')).toBe(0);
  });
});
