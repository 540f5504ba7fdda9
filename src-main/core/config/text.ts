// Reading and writing configuration text: YAML or JSON in, located syntax problems out.
import YAML, { LineCounter } from 'yaml';
import type { Problem } from '../store/config-repo';

export type TextFormat = 'yaml' | 'json';

/** Keys whose lists hold short names; written inline (`after: [a, b]`) so a graph reads at a glance. */
const INLINE_LISTS = new Set(['after', 'validators']);

export function parseText(text: string, format: TextFormat | 'auto'): { value: unknown; problems: Problem[] } {
  const looksLikeJson = /^\s*[[{]/.test(text);
  if (format === 'json' || (format === 'auto' && looksLikeJson)) {
    try {
      return { value: JSON.parse(text) as unknown, problems: [] };
    } catch (e) {
      // Auto mode: not valid JSON after all, so let the YAML parser say where it breaks.
      if (format === 'json') return { value: undefined, problems: [{ path: 'document', message: `JSON syntax error: ${(e as Error).message}` }] };
    }
  }
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      value: undefined,
      problems: doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return { path: `line ${line}, column ${col}`, message: `YAML syntax error: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  return { value: doc.toJS({ maxAliasCount: 1000 }) as unknown, problems: [] };
}

export function formatText(value: unknown, format: TextFormat): string {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  const doc = new YAML.Document(value);
  YAML.visit(doc, {
    Pair(_, pair) {
      if (YAML.isScalar(pair.key) && INLINE_LISTS.has(String(pair.key.value)) && YAML.isSeq(pair.value)) pair.value.flow = true;
    },
  });
  // lineWidth 0: long commands stay on one line, so a changed argument is a one-line diff.
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
