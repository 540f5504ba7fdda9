// Owns the OpenAPI 3.1 documents of the native API, generated from published Job versions.
import type { JobVersion } from '../publish';
import { snapshotTask } from '../publish';
import { INPUT_DATA, serviceFields, type ServiceField } from './contract';

/** A JSON Schema / OpenAPI object; plain data. */
export type Json = { [key: string]: unknown };

export interface DocumentOptions {
  /** Absolute URL of the API root, e.g. `http://127.0.0.1:8610/api/v1`. */
  serverUrl: string;
  title: string;
  /** The document's own version (info.version). */
  version: string;
  description?: string;
}

/** One version of one service to describe; `latest` also gets the unversioned path. */
export interface DocumentEntry {
  service: JobVersion;
  latest: boolean;
}

/** Longest `?wait` the server honours, in seconds. */
export const MAX_WAIT_SECONDS = 300;

const PROBLEM = 'application/problem+json';
const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const problemResponse = (description: string): Json => ({ description, content: { [PROBLEM]: { schema: ref('Problem') } } });

/** Path of a service (and of one of its versions) under the API root. */
export const servicePath = (name: string, version?: number): string =>
  `/services/${encodeURIComponent(name)}${version === undefined ? '' : `/v${version}`}`;

/** The JSON Schema of one field; `mode` says how a file travels. */
export function fieldSchema(field: ServiceField, mode: 'json' | 'multipart'): Json {
  const s: Json = {};
  if (field.type === 'file') {
    const validated = field.validators?.length ? ` It must pass: ${field.validators.join(', ')}.` : '';
    const optional = !field.required && field.kind === 'parameter' ? ' Optional: when omitted, the task uses its default.' : '';
    s.description = `${field.description ? field.description + ' ' : ''}A file.${validated}${optional}`.trim();
    if (field.validators?.length) s['x-validators'] = field.validators;
    if (mode === 'multipart') return { ...s, type: 'string', contentMediaType: 'application/octet-stream' };
    return { ...s, oneOf: [{ type: 'string', description: 'The file content as UTF-8 text.' }, ref('FileContent')] };
  }
  if (field.description) s.description = field.description;
  switch (field.type) {
    case 'integer':
    case 'number':
      s.type = field.type;
      if (field.min !== undefined) s.minimum = field.min;
      if (field.max !== undefined) s.maximum = field.max;
      break;
    case 'boolean':
      s.type = 'boolean';
      break;
    case 'enum':
      s.type = 'string';
      s.enum = field.enum ?? [];
      break;
    default:
      s.type = 'string';
      if (field.max_length !== undefined) s.maxLength = field.max_length;
      if (field.pattern !== undefined) s.pattern = field.pattern;
      if (field.format) s.format = field.format;
  }
  if (field.default !== undefined) s.default = field.default;
  return s;
}

/** The request body schema of a service version. */
export function requestSchema(service: JobVersion, mode: 'json' | 'multipart'): Json {
  const fields = fieldsOf(service);
  const properties: Json = {};
  for (const f of fields) properties[f.name] = fieldSchema(f, mode);
  const required = fields.filter((f) => f.required).map((f) => f.name);
  return {
    type: 'object',
    description: mode === 'json' ? 'Typed values; a file field holds its content.' : 'Form fields as text; each file field is a file part.',
    properties,
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}

export function fieldsOf(service: JobVersion): ServiceField[] {
  const job = { ...service.snapshot.job, name: service.name, runnable: service.runnable };
  return serviceFields(job, snapshotTask(service.snapshot));
}

/** Component names must match ^[a-zA-Z0-9.\-_]+$; distinct services keep distinct names. */
function namer(): (wanted: string) => string {
  const used = new Set<string>();
  return (wanted) => {
    const base = wanted.replace(/[^a-zA-Z0-9._-]/g, '_') || 'service';
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}_${n}`;
    used.add(name);
    return name;
  };
}

/** An OpenAPI 3.1 document for the given service versions plus the run routes every client needs. */
export function buildDocument(entries: DocumentEntry[], options: DocumentOptions): Json {
  const schemaName = namer();
  const operationName = namer();
  const schemas: Json = { ...COMMON_SCHEMAS };
  const paths: Json = {};

  for (const { service, latest } of entries) {
    const base = `${service.name}_v${service.version}`;
    const jsonName = schemaName(`${base}_json`);
    const formName = schemaName(`${base}_form`);
    schemas[jsonName] = requestSchema(service, 'json');
    schemas[formName] = requestSchema(service, 'multipart');
    const fileFields = fieldsOf(service).filter((f) => f.type === 'file');
    const encoding: Json = {};
    for (const f of fileFields) encoding[f.name] = { contentType: 'application/octet-stream' };
    const operation = (pinned: boolean): Json => ({
      operationId: operationName(`submit_${service.name}${pinned ? `_v${service.version}` : ''}`),
      summary: `Run ${service.name}${pinned ? ` (version ${service.version})` : ''}`,
      description: [
        service.snapshot.job.description ?? '',
        pinned ? `Always runs version ${service.version} as published.` : `Runs the latest published version (now ${service.version}).`,
        fileFields.some((f) => f.name === INPUT_DATA)
          ? 'The file `input_data` is the input of the first steps.'
          : 'Each file parameter i of a task is placed in its working directory as `<run id><in_glob i>` (what `$I<i>` names).',
      ]
        .filter(Boolean)
        .join('\n\n'),
      tags: [service.name],
      parameters: [{ $ref: '#/components/parameters/wait' }],
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: ref(jsonName) },
          'multipart/form-data': { schema: ref(formName), ...(fileFields.length ? { encoding } : {}) },
        },
      },
      responses: SUBMIT_RESPONSES,
    });
    if (latest) paths[servicePath(service.name)] = { post: operation(false) };
    paths[servicePath(service.name, service.version)] = { post: operation(true) };
  }
  Object.assign(paths, RUN_PATHS);

  return {
    openapi: '3.1.0',
    info: { title: options.title, version: options.version, ...(options.description ? { description: options.description } : {}) },
    servers: [{ url: options.serverUrl }],
    tags: [...new Set([...entries.map((e) => e.service.name), 'runs'])].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      parameters: {
        wait: {
          name: 'wait',
          in: 'query',
          required: false,
          description: `Seconds to wait for the run to finish: 200 with the finished run if it does, else 202 as without it.`,
          schema: { type: 'integer', minimum: 0, maximum: MAX_WAIT_SECONDS },
        },
        runId: { name: 'id', in: 'path', required: true, description: 'Run id (as returned on submission).', schema: { type: 'string' } },
      },
      headers: {
        Location: { description: 'The run: GET it for its state.', schema: { type: 'string' } },
      },
    },
  };
}

const SUBMIT_RESPONSES: Json = {
  '200': { description: 'The run finished within `wait` seconds.', content: { 'application/json': { schema: ref('Run') } } },
  '202': {
    description: 'Accepted: the run is queued or running.',
    headers: { Location: { $ref: '#/components/headers/Location' } },
    content: { 'application/json': { schema: ref('Run') } },
  },
  '400': problemResponse('Invalid input: `errors` names every invalid field.'),
  '403': problemResponse('The service is disabled.'),
  '404': problemResponse('No such service or version.'),
  '413': problemResponse('An upload or field is too large.'),
  '415': problemResponse('Unsupported media type: send application/json or multipart/form-data.'),
  '429': problemResponse('Too many unfinished runs from this client.'),
};

const STATES = ['Submitted', 'Running', 'Complete', 'Error', 'Crash', 'Cancelled'];
const STEP_STATES = ['waiting', 'queued', 'running', 'done', 'failed', 'crash', 'cancelled', 'skipped'];
const nullable = (type: string): Json => ({ type: [type, 'null'] });

const COMMON_SCHEMAS: Json = {
  Run: {
    type: 'object',
    required: ['id', 'job', 'version', 'state', 'message', 'submitted_at', 'started_at', 'finished_at', 'duration_ms', 'steps', 'results', 'links'],
    properties: {
      id: { type: 'string', description: 'Run id.' },
      job: { type: 'string' },
      version: { ...nullable('integer'), description: 'Published version the run uses (null: submitted through the A_A routes).' },
      submission_name: { type: 'string' },
      state: { type: 'string', enum: STATES },
      message: { type: 'string', description: 'Last state message.' },
      submitted_at: { type: 'string', format: 'date-time' },
      started_at: { ...nullable('string'), format: 'date-time' },
      finished_at: { ...nullable('string'), format: 'date-time' },
      duration_ms: { ...nullable('integer'), description: 'finished_at − submitted_at.' },
      steps: { type: 'array', items: ref('Step') },
      results: { type: 'array', items: ref('Result') },
      links: {
        type: 'object',
        required: ['self', 'events', 'cancel'],
        properties: { self: { type: 'string' }, events: { type: 'string' }, cancel: { type: 'string' } },
      },
    },
  },
  Step: {
    type: 'object',
    required: ['key', 'task', 'state', 'attempts', 'started_at', 'ended_at', 'exit_code'],
    properties: {
      key: { type: 'string' },
      task: { type: 'string' },
      state: { type: 'string', enum: STEP_STATES },
      attempts: { type: 'integer', minimum: 0 },
      started_at: { ...nullable('string'), format: 'date-time' },
      ended_at: { ...nullable('string'), format: 'date-time' },
      exit_code: nullable('integer'),
      message: nullable('string'),
    },
  },
  Result: {
    type: 'object',
    required: ['name', 'step', 'task', 'size', 'url'],
    properties: {
      name: { type: 'string', description: 'File name.' },
      step: { type: 'string', description: 'Key of the step that wrote it.' },
      task: { type: 'string' },
      size: { type: 'integer', minimum: 0 },
      url: { type: 'string', description: 'Download URL (supports Range).' },
    },
  },
  FileContent: {
    type: 'object',
    required: ['content'],
    additionalProperties: false,
    properties: {
      content: { type: 'string' },
      filename: { type: 'string', minLength: 1 },
      encoding: { type: 'string', enum: ['utf8', 'base64'], default: 'utf8' },
    },
  },
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details.',
    required: ['type', 'title', 'status'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      instance: { type: 'string' },
      errors: {
        type: 'array',
        description: 'One entry per invalid input: `pointer` (JSON body), `field` (form field) or `parameter` (query).',
        items: {
          type: 'object',
          required: ['detail'],
          properties: { pointer: { type: 'string' }, field: { type: 'string' }, parameter: { type: 'string' }, detail: { type: 'string' } },
        },
      },
    },
  },
  StateEvent: {
    type: 'object',
    description: 'SSE `state`: the run changed state (the first event is the state at subscription).',
    required: ['id', 'state', 'message', 'at'],
    properties: { id: { type: 'string' }, state: { type: 'string', enum: STATES }, message: { type: 'string' }, at: { type: 'string', format: 'date-time' } },
  },
  StepEvent: {
    type: 'object',
    description: 'SSE `step`: a step was queued, started or ended.',
    required: ['id', 'step', 'state', 'at'],
    properties: {
      id: { type: 'string' },
      step: { type: 'string' },
      attempt: nullable('integer'),
      state: { type: 'string', enum: STEP_STATES },
      exit_code: nullable('integer'),
      at: { type: 'string', format: 'date-time' },
    },
  },
};

const idParam = { $ref: '#/components/parameters/runId' };

const RUN_PATHS: Json = {
  '/runs/{id}': {
    get: {
      operationId: 'getRun',
      summary: 'A run: state, steps, timings, results with download URLs',
      tags: ['runs'],
      parameters: [idParam],
      responses: { '200': { description: 'The run.', content: { 'application/json': { schema: ref('Run') } } }, '404': problemResponse('No such run.') },
    },
  },
  '/runs/{id}/events': {
    get: {
      operationId: 'runEvents',
      summary: 'Server-sent events of a run',
      description:
        'A `text/event-stream`. The first event is `state` with the current state; then `state` (see StateEvent) and `step` (see StepEvent) in the order they happen. ' +
        'At a final state the server sends `end` with the Run document and closes the stream.',
      tags: ['runs'],
      parameters: [idParam],
      responses: {
        '200': { description: 'The event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        '404': problemResponse('No such run.'),
      },
    },
  },
  '/runs/{id}/results/{name}': {
    get: {
      operationId: 'getResult',
      summary: 'Download a result file (Range requests supported)',
      tags: ['runs'],
      parameters: [
        idParam,
        { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'Range', in: 'header', required: false, schema: { type: 'string' }, description: 'e.g. bytes=0-1023' },
      ],
      responses: {
        '200': { description: 'The file.', content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
        '206': { description: 'The requested range.', content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
        '404': problemResponse('No such run or result.'),
        '416': problemResponse('The range cannot be satisfied.'),
      },
    },
  },
  '/runs/{id}/cancel': {
    post: {
      operationId: 'cancelRun',
      summary: 'Cancel a run: queued steps never start, running ones are stopped',
      tags: ['runs'],
      parameters: [idParam],
      responses: {
        '200': { description: 'The run, now Cancelled.', content: { 'application/json': { schema: ref('Run') } } },
        '404': problemResponse('No such run.'),
        '409': problemResponse('The run has already finished.'),
      },
    },
  },
};
