// Rules of the typed parameter editor: which constraints each native API type carries, and how a type change or the bool switch rewrites a Parameter.
import type { Parameter } from '../../api/types';
import { PARAMETER_TYPES, type ParameterType } from '../../../../src-main/core/model/types';

export { PARAMETER_TYPES };
export type { ParameterType };

/** Constraint fields, by the types they belong to; `description` belongs to every type. */
const CONSTRAINTS: Record<ParameterType, Array<keyof Parameter>> = {
  string: ['pattern', 'max_length'],
  integer: ['min', 'max'],
  number: ['min', 'max'],
  boolean: [],
  enum: ['enum'],
  file: ['validators'],
};
const ALL_CONSTRAINTS: Array<keyof Parameter> = ['pattern', 'max_length', 'min', 'max', 'enum', 'validators'];

/** The type a parameter has for API clients (absent: boolean for a switch, else string), as the server reads it. */
export const typeOf = (p: Pick<Parameter, 'type' | 'bool_valued'>): ParameterType => p.type ?? (p.bool_valued ? 'boolean' : 'string');

/** What each type means to the analyst, for the type menu. */
export const TYPE_LABELS: Record<ParameterType, string> = {
  string: 'text',
  integer: 'whole number',
  number: 'number',
  boolean: 'TRUE / FALSE',
  enum: 'one of a list',
  file: 'file',
};

/**
 * A parameter given another type: constraints of other types are dropped (so nothing stale is saved), an enum starts
 * with no values, and only a boolean may stay an on/off switch.
 */
export function withType(p: Parameter, type: ParameterType): Parameter {
  const out: Parameter = { ...p, type };
  for (const key of ALL_CONSTRAINTS) if (!CONSTRAINTS[type].includes(key)) delete out[key];
  if (type === 'enum' && !out.enum) out.enum = [];
  if (type !== 'boolean') out.bool_valued = false;
  if (type === 'file') out.default = null;
  return out;
}

/** The bool switch: a switch parameter is a boolean; turning the switch off makes it plain text again. */
export function withSwitch(p: Parameter, on: boolean): Parameter {
  if (on) return { ...withType(p, 'boolean'), bool_valued: true };
  const { type: _type, ...rest } = p;
  return { ...rest, bool_valued: false };
}

/** Enum values as typed: comma or newline separated, trimmed, blanks and repeats dropped. */
export function parseList(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/[,\n]/)) {
    const v = raw.trim();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

/** A number field's text as an optional bound: empty or unreadable leaves it unset. */
export function optionalNumber(text: string): number | undefined {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}
