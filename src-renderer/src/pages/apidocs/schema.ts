// Reads the native API's OpenAPI document for the docs page: its services, their fields, and a try-it request built from a form.

export type Json = Record<string, any>;

export interface DocField {
  name: string;
  /** 'integer' | 'number' | 'boolean' | 'string' | 'enum' | 'file' */
  kind: string;
  required: boolean;
  default?: unknown;
  description?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  maxLength?: number;
  validators?: string[];
}

export interface DocOperation {
  /** Path under the server URL, e.g. `/services/align` or `/services/align/v2`. */
  path: string;
  service: string;
  /** null for the unversioned (latest) path. */
  version: number | null;
  summary: string;
  description: string;
  fields: DocField[];
}

/** Follows a local `$ref` (`#/components/...`) through the document. */
export function deref(doc: Json, schema: Json): Json {
  let s = schema;
  for (let i = 0; s && typeof s.$ref === 'string' && i < 16; i++) {
    s = s.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((node: Json | undefined, key: string) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc) as Json;
  }
  return s ?? {};
}

/** A field of the multipart request schema as the form shows it. */
export function fieldOf(name: string, schema: Json, required: boolean): DocField {
  const kind = schema.contentMediaType ? 'file' : schema.enum ? 'enum' : String(schema.type ?? 'string');
  const f: DocField = { name, kind, required };
  if (schema.default !== undefined) f.default = schema.default;
  if (schema.description) f.description = String(schema.description);
  if (schema.enum) f.enum = schema.enum as string[];
  if (typeof schema.minimum === 'number') f.minimum = schema.minimum;
  if (typeof schema.maximum === 'number') f.maximum = schema.maximum;
  if (typeof schema.pattern === 'string') f.pattern = schema.pattern;
  if (typeof schema.maxLength === 'number') f.maxLength = schema.maxLength;
  if (Array.isArray(schema['x-validators'])) f.validators = schema['x-validators'] as string[];
  return f;
}

/** Every service submission the document describes, latest paths before their fixed versions. */
export function operations(doc: Json): DocOperation[] {
  const out: DocOperation[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    const post = item.post as Json | undefined;
    const m = /^\/services\/([^/]+)(?:\/v(\d+))?$/.exec(path);
    if (!post || !m) continue;
    const body = deref(doc, post.requestBody?.content?.['multipart/form-data']?.schema ?? {});
    const required = new Set<string>(body.required ?? []);
    out.push({
      path,
      service: decodeURIComponent(m[1]),
      version: m[2] ? Number(m[2]) : null,
      summary: String(post.summary ?? ''),
      description: String(post.description ?? ''),
      fields: Object.entries<Json>(body.properties ?? {}).map(([name, s]) => fieldOf(name, s, required.has(name))),
    });
  }
  return out.sort((a, b) => (a.service === b.service ? (a.version ?? 0) - (b.version ?? 0) : a.service < b.service ? -1 : 1));
}

/** What the constraints column says about a field. */
export function constraints(f: DocField): string {
  const parts: string[] = [];
  if (f.enum) parts.push(`one of ${f.enum.join(', ')}`);
  if (f.minimum !== undefined && f.maximum !== undefined) parts.push(`${f.minimum} to ${f.maximum}`);
  else if (f.minimum !== undefined) parts.push(`≥ ${f.minimum}`);
  else if (f.maximum !== undefined) parts.push(`≤ ${f.maximum}`);
  if (f.pattern) parts.push(`matches ${f.pattern}`);
  if (f.maxLength !== undefined) parts.push(`at most ${f.maxLength} characters`);
  if (f.validators?.length) parts.push(`validated as ${f.validators.join(', ')}`);
  return parts.join('; ');
}

/** Form values as the try-it form holds them: text for fields, a File for file fields; empty text is left out. */
export type TryValues = Record<string, string | boolean | File | null>;

/** The multipart body of a try-it submission: only fields the user filled in (the server applies defaults). */
export function formBody(fields: DocField[], values: TryValues): FormData {
  const form = new FormData();
  for (const f of fields) {
    const v = values[f.name];
    if (v === undefined || v === null || v === '') continue;
    if (typeof File !== 'undefined' && v instanceof File) form.append(f.name, v, v.name);
    else form.append(f.name, String(v));
  }
  return form;
}

/** A curl command equivalent to a try-it submission (with any headers it sends, such as an API key). */
export function curlFor(url: string, fields: DocField[], values: TryValues, headers: Record<string, string> = {}): string {
  const parts = [`curl -X POST '${url}'`];
  for (const [name, value] of Object.entries(headers)) parts.push(`-H '${name}: ${value.replace(/'/g, `'\\''`)}'`);
  for (const f of fields) {
    const v = values[f.name];
    if (v === undefined || v === null || v === '') continue;
    if (typeof File !== 'undefined' && v instanceof File) parts.push(`-F '${f.name}=@${v.name}'`);
    else parts.push(`-F '${f.name}=${String(v).replace(/'/g, `'\\''`)}'`);
  }
  return parts.join(' \\\n  ');
}
