// Contract tests: the served OpenAPI documents validate, and a client driven only by them submits, follows events and downloads results for three Jobs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020';
import { startTestServer, fixture, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';
import { saveBackend } from '../../src-main/core/store/config-repo';
import { publishJob } from '../../src-main/core/publish';

type Schema = Record<string, any>;
type Doc = Record<string, any>;

let t: TestServer;
let doc: Doc;

beforeAll(async () => {
  t = await startTestServer({ settings: { queue_hog_size: null, queue_hard_limit: null } });
  const db = t.core.db;
  // 1. Typed values into one command.
  addTask(db, 'greet', 'printf [%s] $P1 $P2 $P3 $P4', {
    parameters: [
      { flag: '--times', alias: 'times', type: 'integer', min: 2, max: 5 },
      { flag: '--ratio', alias: 'ratio', type: 'number', min: 0.25, max: 0.75 },
      { flag: '--tone', alias: 'tone', type: 'enum', enum: ['warm', 'cold'] },
      { flag: '--name', alias: 'name', type: 'string', pattern: '^[A-Z][a-z]+$', max_length: 10 },
    ],
  });
  addJob(db, 'greet', [['greet', 0]], { runnable: false, validators: ['none'] });
  publishJob(db, 'greet');
  // 2. Two named files, then a downstream step.
  addTask(db, 'join', 'cat $I1 $I2', {
    in_glob: '.seq,.notes',
    out_glob: '.joined',
    stdout_glob: '.joined',
    parameters: [
      { flag: '-s', alias: 'sequence', type: 'file', validators: ['seq'] },
      { flag: '-n', alias: 'notes', type: 'file' },
    ],
  });
  addTask(db, 'lines', 'wc -l $I1', { in_glob: '.joined', out_glob: '.lines', stdout_glob: '.lines' });
  addJob(db, 'join', [['join', 0], ['lines', 1]], { runnable: false });
  publishJob(db, 'join');
  // 3. A node script with a number and a switch.
  saveBackend(db, { name: 'node', queue_type: 'node' });
  addTask(db, 'scale', "require('fs').writeFileSync(O1, 'scaled ' + Number(P1['--by']) * 10 + (P2 === true ? ' loud' : ''));", {
    backend: 'node',
    in_glob: '.input',
    out_glob: '.txt',
    parameters: [
      { flag: '--by', alias: 'by', type: 'number', min: 0, max: 2, default: '1.5' },
      { flag: '--loud', alias: 'loud', bool_valued: true },
    ],
  });
  addJob(db, 'scale', [['scale', 0]], { runnable: false });
  publishJob(db, 'scale');

  doc = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as Doc;
});

afterAll(async () => {
  await t?.close();
});

// ---------------------------------------------------------------------------------------------
// A client that knows only the OpenAPI document.

const deref = (s: Schema): Schema => (s.$ref ? deref(s.$ref.split('/').slice(1).reduce((o: any, k: string) => o[k], doc)) : s);

/** A value the schema accepts, for a field without a default. */
function valueFor(schema: Schema): unknown {
  const s = deref(schema);
  if (s.enum) return s.enum[0];
  if (s.type === 'integer') return s.minimum ?? 1;
  if (s.type === 'number') return s.minimum !== undefined && s.maximum !== undefined ? (s.minimum + s.maximum) / 2 : (s.minimum ?? 1);
  if (s.type === 'boolean') return true;
  if (s.contentMediaType || s.oneOf) {
    // A file: FASTA where the schema says it is validated as a sequence, else plain text.
    return (s['x-validators'] ?? []).includes('seq') ? fixture('5ptpA.fasta').toString() : 'some notes\nsecond line\n';
  }
  const candidates = ['Alice', 'abc', 'ACGT', 'x1', '1'];
  const fits = (c: string) => (!s.pattern || new RegExp(s.pattern, 'u').test(c)) && (s.maxLength === undefined || c.length <= s.maxLength);
  const found = candidates.find(fits);
  if (!found) throw new Error(`no candidate fits ${JSON.stringify(s)}`);
  return found;
}

/** Values for every required field and every optional field with a default (core fields left to the server). */
function buildValues(bodySchema: Schema): Record<string, unknown> {
  const s = deref(bodySchema);
  const values: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries<Schema>(s.properties)) {
    if (name === 'submission_name' || name === 'email') continue;
    if ((s.required ?? []).includes(name)) values[name] = valueFor(prop);
    else if (prop.default !== undefined) values[name] = prop.default;
  }
  return values;
}

async function submit(service: string, encoding: 'application/json' | 'multipart/form-data') {
  const server = doc.servers[0].url as string;
  const op = doc.paths[`/services/${service}`].post;
  const body = op.requestBody.content[encoding];
  const values = buildValues(body.schema);
  let init: RequestInit;
  if (encoding === 'application/json') {
    init = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(values) };
  } else {
    const form = new FormData();
    const props = deref(body.schema).properties;
    for (const [name, value] of Object.entries(values)) {
      if (props[name].contentMediaType) form.append(name, new Blob([String(value)]), `${name}.txt`);
      else form.append(name, String(value));
    }
    init = { method: 'POST', body: form };
  }
  const res = await fetch(`${server}/services/${service}`, init);
  const run = (await res.json()) as any;
  return { status: res.status, location: res.headers.get('location'), run, values, op };
}

/** Reads a server-sent event stream until it ends. */
async function events(url: string): Promise<Array<{ event: string; data: any }>> {
  const res = await fetch(url, { headers: { Accept: 'text/event-stream' } });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const out: Array<{ event: string; data: any }> = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) out.push({ event, data: JSON.parse(data) });
    }
  }
  return out;
}

function schemaValidator(name: string) {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema({ $id: 'openapi', components: doc.components });
  return ajv.getSchema(`openapi#/components/schemas/${name}`)!;
}

// ---------------------------------------------------------------------------------------------

describe('OpenAPI documents', () => {
  it('the all-services document and each per-service document are valid OpenAPI 3.1', async () => {
    const docs = [doc];
    for (const name of ['greet', 'join', 'scale']) docs.push((await (await fetch(`${t.url}/api/v1/services/${name}/openapi.json`)).json()) as Doc);
    docs.push((await (await fetch(`${t.url}/api/v1/services/join/v1/openapi.json`)).json()) as Doc);
    for (const d of docs) {
      const result = await new Validator().validate(d);
      expect(result.errors ?? null).toBeNull();
      expect(result.valid).toBe(true);
    }
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/services/'))).toEqual([
      '/services/greet',
      '/services/greet/v1',
      '/services/join',
      '/services/join/v1',
      '/services/scale',
      '/services/scale/v1',
    ]);
  });

  it('an unknown service has no document', async () => {
    const res = await fetch(`${t.url}/api/v1/services/nope/openapi.json`);
    expect(res.status).toBe(404);
  });
});

describe('a client built from the document', () => {
  const cases = [
    { service: 'greet', encoding: 'application/json' as const, check: (text: string) => expect(text).toBe('[--times][2][--ratio][0.5][--tone][warm][--name][Alice]') },
    { service: 'join', encoding: 'multipart/form-data' as const, check: (text: string) => expect(text).toMatch(/^>5PTPA[^]*some notes\nsecond line\n$|^4 \S+\.joined\n$/) },
    { service: 'scale', encoding: 'application/json' as const, check: (text: string) => expect(text).toBe('scaled 15 loud') },
  ];

  for (const c of cases) {
    it(`${c.service}: submits (${c.encoding}), follows the events to the end and downloads every result`, async () => {
      const requestSchema = c.encoding === 'application/json' ? schemaValidator(`${c.service}_v1_json`) : null;
      const sent = await submit(c.service, c.encoding);
      if (requestSchema) expect(requestSchema(sent.values), JSON.stringify(requestSchema.errors)).toBe(true);
      expect(sent.status, JSON.stringify(sent.run)).toBe(202);
      expect(Object.keys(sent.op.responses)).toContain('202');
      const runSchema = schemaValidator('Run');
      expect(runSchema(sent.run), JSON.stringify(runSchema.errors)).toBe(true);

      const stream = await events(t.url + sent.run.links.events);
      expect(stream[0].event).toBe('state');
      const states = stream.filter((e) => e.event === 'state').map((e) => e.data.state);
      expect(states[states.length - 1]).toBe('Complete');
      expect(stream[stream.length - 1].event).toBe('end');
      const stateSchema = schemaValidator('StateEvent');
      const stepSchema = schemaValidator('StepEvent');
      for (const e of stream) {
        if (e.event === 'state') expect(stateSchema(e.data), JSON.stringify(stateSchema.errors)).toBe(true);
        if (e.event === 'step') expect(stepSchema(e.data), JSON.stringify(stepSchema.errors)).toBe(true);
      }

      const run = stream[stream.length - 1].data;
      expect(runSchema(run), JSON.stringify(runSchema.errors)).toBe(true);
      expect(run.state).toBe('Complete');
      expect(run.results.length).toBeGreaterThan(0);
      for (const result of run.results) {
        const res = await fetch(t.url + result.url);
        const text = await res.text();
        expect(res.status).toBe(200);
        expect(Buffer.byteLength(text)).toBe(result.size);
        c.check(text);
      }
    });
  }
});
