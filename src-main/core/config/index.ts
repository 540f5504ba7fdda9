// Configuration import and export: native YAML/JSON documents and A_A fixture dumps, imported all-or-nothing.
import type { Db } from '../store/db';
import { AppError } from '../errors';
import type { Problem } from '../store/config-repo';
import { fromAaFixture, isAaFixture } from './aa-fixture';
import { applyBundle, type Bundle, checkBundle } from './bundle';
import { fromNative, nativeDocument, NATIVE_FORMAT } from './native';
import { formatText, parseText, type TextFormat } from './text';

export { NATIVE_FORMAT } from './native';
export { CONFIG_SCHEMA, CONFIG_SCHEMA_PATH, schemaProblems } from './schema';
export type { TextFormat } from './text';

export interface ImportOptions {
  /** 'auto' (default): JSON when the text starts with `{` or `[`, else YAML. */
  format?: TextFormat | 'auto';
}

export interface ImportSummary {
  kind: 'native' | 'aa-fixture' | 'cwl';
  /** Per kind (queue_types, backends, tasks, jobs): names that were new. */
  created: Record<string, number>;
  /** Per kind: names that existed and were replaced. */
  updated: Record<string, number>;
  /** Per model label of an A_A dump (e.g. `analytics_automated.submission`): entries not imported. */
  skipped: Record<string, number>;
}

/** The whole configuration as one document; the same store always gives the same bytes. */
export function exportConfig(db: Db, format: TextFormat = 'yaml'): string {
  return formatText(nativeDocument(db), format);
}

/**
 * Imports a native document or an A_A dump. Names already stored are replaced. Nothing is
 * written unless the whole document is valid; otherwise AppError('Invalid') lists every problem.
 */
export function importConfig(db: Db, text: string, opts: ImportOptions = {}): ImportSummary {
  const parsed = parseText(text, opts.format ?? 'auto');
  if (parsed.problems.length) throw rejected(parsed.problems);
  const value = parsed.value;

  let kind: ImportSummary['kind'];
  let read: ReadDocument;
  if (isAaFixture(value)) {
    kind = 'aa-fixture';
    read = fromAaFixture(value);
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    kind = 'native';
    read = fromNative(value as Record<string, unknown>);
  } else {
    throw rejected([
      {
        path: 'document',
        message: `expected a configuration ({ format: ${NATIVE_FORMAT}, ... }) or an A_A dump (a list of { model, pk, fields })`,
      },
    ]);
  }

  return importRead(db, kind, read);
}

/** A document read into store inputs, with what was wrong with it. */
export interface ReadDocument {
  bundle: Bundle;
  problems: Problem[];
  /** Where the document breaks its JSON Schema; reported unless a more specific problem stands at the same place. */
  schemaProblems?: Problem[];
  skipped?: Record<string, number>;
}

/** Checks a read document against the store and applies it, all or nothing. */
export function importRead(db: Db, kind: ImportSummary['kind'], read: ReadDocument): ImportSummary {
  // Checked and applied in one write transaction, so nothing can change the store in between.
  return db
    .transaction((): ImportSummary => {
      const specific = [...read.problems, ...checkBundle(db, read.bundle)];
      const located = new Set(specific.map((p) => p.path));
      const problems = [...(read.schemaProblems ?? []).filter((p) => !located.has(p.path)), ...specific];
      if (problems.length) throw rejected(inDocumentOrder(problems));
      const { created, updated } = applyBundle(db, read.bundle);
      return { kind, created, updated, skipped: read.skipped ?? {} };
    })
    .immediate();
}

const SECTIONS = ['queue_types', 'backends', 'tasks', 'jobs'];

/** Problems sorted by the entry they are in (stable, so each entry's own problems keep their order). */
function inDocumentOrder(problems: Problem[]): Problem[] {
  const position = (path: string): [number, number] => {
    const entry = /^(\w*)\[(\d+)\]/.exec(path);
    if (!entry) return [-1, 0];
    return [entry[1] === '' ? 0 : SECTIONS.indexOf(entry[1]), Number(entry[2])];
  };
  return problems
    .map((p) => ({ p, at: position(p.path) }))
    .sort((a, b) => a.at[0] - b.at[0] || a.at[1] - b.at[1])
    .map(({ p }) => p);
}

function rejected(problems: Problem[]): AppError {
  const shown = problems
    .slice(0, 3)
    .map((p) => `${p.path}: ${p.message}`)
    .join('; ');
  const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : '';
  return new AppError(
    'Invalid',
    `Configuration not imported, ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${shown}${more}`,
    undefined,
    problems,
  );
}
