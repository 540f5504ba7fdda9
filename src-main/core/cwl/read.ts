// Reading CWL documents: YAML/JSON text checked by the CWL reference parser (cwl-ts-auto), as plain normalised data.
import type * as CwlParser from 'cwl-ts-auto/dist/util/Internal.js';
import type { Problem } from '../store/config-repo';
import { parseText } from '../config/text';

/** Namespace of the workbench's own CWL extension fields (`aa:in_glob`, `aa:after`, ...). */
export const AA_NAMESPACE = 'https://aa-workbench.invalid/cwl#';
export const EDAM_NAMESPACE = 'http://edamontology.org/';

/** CWL versions read; documents are written as v1.2. */
export const CWL_VERSIONS = ['v1.0', 'v1.1', 'v1.2'];

export type Fields = Record<string, unknown>;
export const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One `.cwl` file as uploaded: its name and text. */
export interface CwlFile {
  name: string;
  text: string;
}

/** One process (tool or workflow) of a file, normalised by the parser: map forms are lists, shorthand types expanded. */
export interface CwlProcess {
  file: string;
  /** `#id` of the process within a `$graph` file; null for a file holding one process. */
  element: string | null;
  /** The process's own id when the document gives one (not a generated one, not the file's URI). */
  id: string | null;
  class: 'CommandLineTool' | 'Workflow';
  /** The parser's saved form of the process. */
  doc: Fields;
  /** Workbench extension fields (without the `aa:` prefix) of the process, its inputs (by id) and its steps (by id). */
  ext: Extensions;
  /** Extension fields of inline tools of workflow steps, by step id. */
  inline: Map<string, Extensions>;
}

export interface Extensions {
  own: Fields;
  inputs: Map<string, Fields>;
  steps: Map<string, Fields>;
}

let parser: Promise<{ cwl: typeof CwlParser; fetcher: () => CwlParser.Fetcher }> | null = null;

/** The CWL parser, loaded on first use: it is large, and most starts of the app never read CWL. */
function cwlParser() {
  // The file name in full: the host may load it as an ES module import, which does not guess extensions.
  parser ??= import('cwl-ts-auto/dist/util/Internal.js').then((loaded) => {
    // A CommonJS module seen from an ES import keeps its exports under `default`.
    const cwl = (loaded as { default?: typeof CwlParser }).default ?? loaded;
    /** Files are read on their own: `$import`, `$include` and remote references are refused rather than fetched. */
    class NoFetcher extends cwl.DefaultFetcher {
      override fetchText(url: string): Promise<string> {
        return Promise.reject(new cwl.ValidationException(`references to other documents are not read (${url}); upload every file together`));
      }
      override checkExists(): boolean {
        return false;
      }
    }
    return { cwl, fetcher: () => new NoFetcher() };
  });
  return parser;
}

/** The last segment of a CWL identifier: `file:///x/tool.cwl#main/step/out` → `out`. */
export function shortId(id: string): string {
  const fragment = id.includes('#') ? id.slice(id.lastIndexOf('#') + 1) : id;
  return fragment.slice(fragment.lastIndexOf('/') + 1);
}

/** The identifier after `#`, without the file (`file:///x/wf.cwl#main/first/out` → `main/first/out`); '' when none. */
export function fragmentOf(id: string): string {
  return id.includes('#') ? id.slice(id.lastIndexOf('#') + 1) : '';
}

const GENERATED_ID = /^_:|^_?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The id a document author gave a process, or null (none, the file's own URI, or one the parser made up). */
function ownId(id: unknown): string | null {
  if (typeof id !== 'string' || id === '') return null;
  const fragment = fragmentOf(id);
  if (fragment === '' && /^[a-z]+:/.test(id)) return null;
  const short = shortId(id);
  return short === '' || GENERATED_ID.test(short) ? null : short;
}

function extensionsOf(instance: { extensionFields?: Record<string, unknown> } | undefined): Fields {
  const out: Fields = {};
  for (const [key, value] of Object.entries(instance?.extensionFields ?? {})) {
    if (key.startsWith(AA_NAMESPACE)) out[key.slice(AA_NAMESPACE.length)] = value;
  }
  return out;
}

interface Instance {
  extensionFields?: Record<string, unknown>;
  inputs?: Array<{ id?: string; extensionFields?: Record<string, unknown> }>;
  steps?: Array<{ id?: string; extensionFields?: Record<string, unknown>; run?: unknown }>;
  save(): unknown;
}

function extensions(instance: Instance): Extensions {
  return {
    own: extensionsOf(instance),
    inputs: new Map((instance.inputs ?? []).map((i) => [shortId(String(i.id ?? '')), extensionsOf(i)])),
    steps: new Map((instance.steps ?? []).map((s) => [shortId(String(s.id ?? '')), extensionsOf(s)])),
  };
}

/** The parser's message cut down to the branch of the class the document declares. */
function parserMessage(error: unknown, declared: unknown, validation: typeof CwlParser.ValidationException): string {
  const text = error instanceof validation ? error.toString() : error instanceof Error ? error.message : String(error);
  const lines = text.split('\n');
  const start = typeof declared === 'string' ? lines.findIndex((l) => l.trim() === `Trying '${declared}'`) : -1;
  let picked = lines;
  if (start >= 0) {
    const indent = lines[start].length - lines[start].trimStart().length;
    const body: string[] = [];
    for (const line of lines.slice(start + 1)) {
      if (line.trim() !== '' && line.length - line.trimStart().length <= indent) break;
      body.push(line);
    }
    picked = body;
  }
  const message = picked
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^tried _\w+ but$/.test(l))
    .join(' ')
    .replace(/\s+/g, ' ');
  return message.length > 600 ? `${message.slice(0, 600)}…` : message || 'not a valid CWL document';
}

/**
 * Parses one file. Every process in it comes back normalised, or problems located at the file say why not:
 * a syntax error, an unsupported version or class, or what the CWL parser found wrong.
 */
export async function readCwl(file: CwlFile): Promise<{ processes: CwlProcess[]; problems: Problem[] }> {
  const at = file.name;
  const parsed = parseText(file.text, 'auto');
  if (parsed.problems.length) return { processes: [], problems: parsed.problems.map((p) => ({ path: `${at}: ${p.path}`, message: p.message })) };
  const value = parsed.value;
  if (!isObject(value)) return { processes: [], problems: [{ path: at, message: 'must be a CWL document (an object with cwlVersion and class)' }] };
  const problems: Problem[] = [];
  const version = value.cwlVersion;
  if (typeof version !== 'string') problems.push({ path: `${at}: cwlVersion`, message: `required: one of ${CWL_VERSIONS.join(', ')}` });
  else if (!CWL_VERSIONS.includes(version)) problems.push({ path: `${at}: cwlVersion`, message: `unsupported version "${version}" (expected ${CWL_VERSIONS.join(', ')})` });
  const entries = Array.isArray(value.$graph) ? (value.$graph as unknown[]) : [value];
  entries.forEach((entry, i) => {
    const where = Array.isArray(value.$graph) ? `${at}: $graph[${i}]` : at;
    const cls = isObject(entry) ? entry.class : undefined;
    if (cls !== 'CommandLineTool' && cls !== 'Workflow') {
      problems.push({
        path: `${where}.class`,
        message: cls === undefined ? 'required: CommandLineTool or Workflow' : `unsupported class ${JSON.stringify(cls)} (expected CommandLineTool or Workflow)`,
      });
    }
  });
  if (problems.length) return { processes: [], problems };

  const uri = `file:///cwl/${encodeURIComponent(file.name)}`;
  const { cwl, fetcher } = await cwlParser();
  let loaded: Instance | Instance[];
  try {
    const options = new cwl.LoadingOptions({ fileUri: uri, fetcher: fetcher() });
    loaded = (await cwl.loadDocumentByString(file.text, uri, options)) as Instance | Instance[];
  } catch (error) {
    const declared = Array.isArray(value.$graph) ? undefined : value.class;
    return { processes: [], problems: [{ path: at, message: parserMessage(error, declared, cwl.ValidationException) }] };
  }
  const instances = Array.isArray(loaded) ? loaded : [loaded];
  const processes = instances.map((instance): CwlProcess => {
    const doc = instance.save() as Fields;
    const inline = new Map<string, Extensions>();
    for (const step of instance.steps ?? []) {
      const run = step.run as Instance | string | undefined;
      if (run && typeof run === 'object' && typeof run.save === 'function') inline.set(shortId(String(step.id ?? '')), extensions(run));
    }
    return {
      file: file.name,
      element: Array.isArray(loaded) ? fragmentOf(String(doc.id ?? '')) || null : null,
      id: ownId(doc.id),
      class: doc.class as CwlProcess['class'],
      doc,
      ext: extensions(instance),
      inline,
    };
  });
  return { processes, problems: [] };
}
