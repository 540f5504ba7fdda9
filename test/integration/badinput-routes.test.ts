// Generated bad input against every public route: malformed multipart, truncated and stalled bodies, huge and
// broken headers, wrong types, unknown jobs and runs, giant parameter lists, wrong methods. Each case must get a
// 4xx with a structured (JSON) body, the server must keep serving, and nothing may be written.
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';
import { publishJob } from '../../src-main/core/publish';
import { until } from '../faults/harness';

let t: TestServer;
let port: number;

interface Reply {
  status: number;
  type: string;
  text: string;
}

/** Sends raw bytes on a fresh connection; `halfClose` ends the writing side, as a client that gave up would. */
function exchange(data: Buffer | string, opts: { halfClose?: boolean; timeoutMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(data, () => {
        if (opts.halfClose) socket.end();
      });
    });
    const done = () => resolve(parseReply(Buffer.concat(chunks)));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', done);
    // The server may close while a large request is still being written: its answer is what counts.
    socket.on('error', () => undefined);
    setTimeout(() => socket.destroy(), opts.timeoutMs ?? 5000).unref();
  });
}

function parseReply(raw: Buffer): Reply {
  const text = raw.toString('latin1');
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  const type = /\r\ncontent-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
  let body = raw.subarray(Buffer.byteLength(head, 'latin1') + 4);
  if (/\r\ntransfer-encoding: chunked/i.test(head)) {
    const parts: Buffer[] = [];
    for (let at = 0; at < body.length; ) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.subarray(at, eol).toString(), 16);
      if (!size) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status, type, text: body.toString('utf8') };
}

function request(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Reply> {
  const b = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (body !== undefined && !Object.keys(headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h))) lines.push(`Content-Length: ${b.length}`);
  return exchange(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), b]));
}

const MP = (boundary: string) => ({ 'Content-Type': `multipart/form-data; boundary=${boundary}` });
const part = (name: string, value: string, b = 'X') => `--${b}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const filePart = (name: string, content: string, b = 'X') =>
  `--${b}\r\nContent-Disposition: form-data; name="${name}"; filename="in.txt"\r\nContent-Type: text/plain\r\n\r\n${content}\r\n`;
const core = (b = 'X') => part('submission_name', 'n', b) + part('email', 'a@b.com', b);

const POST_ROUTES = ['/analytics_automated/submission/', '/analytics_automated/submission.json', '/api/v1/services/typed'];
const GET_ROUTES = ['/analytics_automated/job/', '/api/v1/services', '/analytics_automated/endpoints/'];
const RANDOM_UUID = 'e1a0c7d2-5b0f-11ef-8000-0242ac120002';

interface Case {
  name: string;
  run: () => Promise<Reply>;
}
const cases: Case[] = [];
const add = (name: string, run: () => Promise<Reply>) => cases.push({ name, run });

// A. Malformed multipart, on every intake route.
const MALFORMED: Array<[string, Record<string, string>, string]> = [
  ['multipart without a boundary', { 'Content-Type': 'multipart/form-data' }, part('job', 'echo')],
  ['an empty boundary', { 'Content-Type': 'multipart/form-data; boundary=' }, part('job', 'echo')],
  ['an empty body', MP('X'), ''],
  ['garbage instead of parts', MP('X'), 'this is not multipart at all'],
  ['an opening delimiter only', MP('X'), '--X\r\n'],
  ['a part without Content-Disposition', MP('X'), '--X\r\nContent-Type: text/plain\r\n\r\nvalue\r\n--X--\r\n'],
  ['a Content-Disposition without a name', MP('X'), '--X\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--X--\r\n'],
  ['a part header without a colon', MP('X'), '--X\r\nContent-Disposition form-data; name="job"\r\n\r\necho\r\n--X--\r\n'],
  ['part headers that never end', MP('X'), '--X\r\nContent-Disposition: form-data; name="job"\r\nX-A: b\r\nX-C: d'],
  ['a file part never closed', MP('X'), core() + part('job', 'echo') + '--X\r\nContent-Disposition: form-data; name="input_data"; filename="a"\r\n\r\nabc'],
  ['a closing delimiter only', MP('X'), '--X--\r\n'],
  ['a 200-character boundary', MP('B'.repeat(200)), part('job', 'echo', 'B'.repeat(200)) + `--${'B'.repeat(200)}--\r\n`],
  ['NUL bytes in part headers', MP('X'), '--X\r\nContent-Disposition: form-data; name="jo\u0000b"\r\n\r\necho\r\n--X--\r\n'],
  ['a broken RFC 5987 file name', MP('X'), core() + part('job', 'echo') + "--X\r\nContent-Disposition: form-data; name=\"input_data\"; filename*=utf-8''%ZZ%\r\n\r\nabc\r\n--X--\r\n"],
  ['3000 headers in one part', MP('X'), '--X\r\n' + Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n') + '\r\nContent-Disposition: form-data; name="job"\r\n\r\necho\r\n--X--\r\n'],
  ['a body using another boundary', MP('X'), core('Y') + part('job', 'echo', 'Y') + '--Y--\r\n'],
  ['multipart/mixed instead of form-data', { 'Content-Type': 'multipart/mixed; boundary=X' }, core() + part('job', 'echo') + '--X--\r\n'],
  ['urlencoded with broken escapes and no file', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'job=%ZZ&submission_name=%&email'],
  ['urlencoded with only the job', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'job=echo'],
  ['a complete form without its file', MP('X'), core() + part('job', 'echo') + '--X--\r\n'],
];
for (const route of POST_ROUTES) {
  for (const [what, headers, body] of MALFORMED) add(`POST ${route} with ${what}`, () => request('POST', route, headers, body));
}

// B. Truncated bodies: the client gives up (half-close) or stalls (idle timeout).
const FULL = core() + part('job', 'echo') + filePart('input_data', 'x'.repeat(2000)) + '--X--\r\n';
for (const route of POST_ROUTES) {
  const head = (extra: string) => `POST ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=X\r\n${extra}\r\n`;
  add(`POST ${route} cut short of its Content-Length`, () => exchange(head(`Content-Length: ${FULL.length}\r\n`) + FULL.slice(0, 300), { halfClose: true }));
  add(`POST ${route} cut inside a part header`, () => exchange(head(`Content-Length: ${FULL.length}\r\n`) + FULL.slice(0, 20), { halfClose: true }));
  add(`POST ${route} cut inside the file`, () => exchange(head(`Content-Length: ${FULL.length}\r\n`) + FULL.slice(0, FULL.length - 100), { halfClose: true }));
  add(`POST ${route} with chunked encoding cut mid-chunk`, () => exchange(head('Transfer-Encoding: chunked\r\n') + `400\r\n${FULL.slice(0, 100)}`, { halfClose: true }));
  add(`POST ${route} that stalls mid-body`, () => exchange(head(`Content-Length: ${FULL.length}\r\n`) + FULL.slice(0, 500), { timeoutMs: 5000 }));
}

// C. Huge and broken request heads, on reading routes and intake alike.
const HEADS: Array<[string, (route: string) => string]> = [
  ['a 20 KB header', (r) => `GET ${r} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
  ['a 100 KB header', (r) => `GET ${r} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`],
  ['5000 small headers', (r) => `GET ${r} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Array.from({ length: 5000 }, (_, i) => `X-${i}: ${'v'.repeat(10)}`).join('\r\n')}\r\n\r\n`],
  ['an invalid header name', (r) => `GET ${r} HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n`],
  ['a control character in a header value', (r) => `GET ${r} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\u0001b\r\n\r\n`],
  ['no Host header', (r) => `GET ${r} HTTP/1.1\r\nConnection: close\r\n\r\n`],
  ['a garbage request line', () => `GARBAGE\r\n\r\n`],
  ['an unknown HTTP version', (r) => `GET ${r} HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n`],
  ['an invalid method token', (r) => `G@T ${r} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`],
  ['two different Content-Lengths', (r) => `POST ${r} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef`],
  ['Content-Length and Transfer-Encoding together', (r) => `POST ${r} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ['a negative Content-Length', (r) => `POST ${r} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n`],
];
for (const route of [...GET_ROUTES.slice(0, 2), POST_ROUTES[0]]) {
  for (const [what, raw] of HEADS) add(`${route} with ${what}`, () => exchange(raw(route)));
}

// D. Wrong types: what A_A intake cannot read, and typed values of the wrong kind for the native API.
for (const route of POST_ROUTES.slice(0, 2)) {
  for (const [what, type, body] of [
    ['a JSON body', 'application/json', '{"job":"echo"}'],
    ['a text body', 'text/plain', 'job=echo'],
    ['an XML body', 'application/xml', '<job>echo</job>'],
    ['no content type', '', 'job=echo'],
  ] as const) {
    add(`POST ${route} with ${what}`, () => request('POST', route, type ? { 'Content-Type': type } : {}, body));
  }
}
const TYPED: Array<[string, string]> = [
  ['a word for an integer', '{"typed_count":"three","input_data":"x"}'],
  ['a fraction for an integer', '{"typed_count":1.5,"input_data":"x"}'],
  ['null for an integer', '{"typed_count":null,"input_data":"x"}'],
  ['a list for an integer', '{"typed_count":[1],"input_data":"x"}'],
  ['an object for an integer', '{"typed_count":{"v":1},"input_data":"x"}'],
  ['true for an integer', '{"typed_count":true,"input_data":"x"}'],
  ['an integer out of range', '{"typed_count":11,"input_data":"x"}'],
  ['a number for an enum', '{"typed_mode":5,"input_data":"x"}'],
  ['a value outside the enum', '{"typed_mode":"medium","input_data":"x"}'],
  ['a word for a boolean', '{"typed_verbose":"yes","input_data":"x"}'],
  ['a number for a boolean', '{"typed_verbose":1,"input_data":"x"}'],
  ['a number for a string', '{"typed_text":123,"input_data":"x"}'],
  ['a list for a string', '{"typed_text":["a"],"input_data":"x"}'],
  ['an over-long string', `{"typed_text":"${'s'.repeat(41)}","input_data":"x"}`],
  ['a number for a file', '{"input_data":5}'],
  ['a file object without content', '{"input_data":{"filename":"a"}}'],
  ['a file object with an unknown encoding', '{"input_data":{"content":"x","encoding":"base99"}}'],
  ['no file at all', '{"typed_count":3}'],
  ['an unknown field', '{"input_data":"x","nope":1}'],
  ['a JSON list body', '[1,2,3]'],
  ['a JSON string body', '"text"'],
  ['a JSON number body', '42'],
  ['a JSON null body', 'null'],
  ['truncated JSON', '{"typed_count":'],
  ['JSON with a trailing comma', '{"input_data":"x",}'],
  ['a prototype-polluting body', '{"__proto__":{"polluted":true},"input_data":"x","typed_mode":"nope"}'],
  ['deeply nested JSON', '['.repeat(5000) + ']'.repeat(5000)],
];
for (const [what, body] of TYPED) {
  add(`POST /api/v1/services/typed with ${what}`, () => request('POST', '/api/v1/services/typed', { 'Content-Type': 'application/json' }, Buffer.from(body, 'latin1')));
}
add('POST /api/v1/services/typed with JSON in an unknown charset', () =>
  request('POST', '/api/v1/services/typed', { 'Content-Type': 'application/json; charset=latin-99' }, '{"input_data":"x"}'),
);

// E. Unknown jobs and runs.
for (const job of ['nope', '', ',', 'echo,nope', '../echo', 'echo\u0000', 'j'.repeat(5000), 'ECHO', 'echo ']) {
  add(`POST an A_A submission for job ${JSON.stringify(job.slice(0, 20))}`, () =>
    request('POST', POST_ROUTES[0], MP('X'), core() + part('job', job) + filePart('input_data', 'x') + '--X--\r\n'),
  );
}
for (const job of ['nope', '..%2f..%2fetc', '%00', 'j'.repeat(300), 'echo%20', 'typed%2Fv1']) {
  add(`POST /api/v1/services/${job.slice(0, 20)}`, () => request('POST', `/api/v1/services/${job}`, { 'Content-Type': 'application/json' }, '{"input_data":"x"}'));
}
for (const [method, p] of [
  ['GET', '/analytics_automated/job/nope'],
  ['GET', '/analytics_automated/job/..%2F..%2Fetc%2Fpasswd'],
  ['GET', '/analytics_automated/job/%E0%A4%A'],
  ['GET', '/analytics_automated/job/?page=0'],
  ['GET', '/analytics_automated/job/?page=abc'],
  ['GET', '/analytics_automated/job/?page=99999'],
  ['GET', `/analytics_automated/submission/${RANDOM_UUID}`],
  ['GET', '/analytics_automated/submission/not-a-uuid'],
  ['GET', `/analytics_automated/submission/single/${RANDOM_UUID}`],
  ['GET', '/analytics_automated/submission/single/garbage'],
  ['GET', '/analytics_automated/nothing-here'],
  ['GET', `/api/v1/runs/${RANDOM_UUID}`],
  ['GET', '/api/v1/runs/garbage'],
  ['GET', '/api/v1/runs/%ZZ'],
  ['GET', `/api/v1/runs/${RANDOM_UUID}/events`],
  ['GET', `/api/v1/runs/${RANDOM_UUID}/results/x.out`],
  ['POST', `/api/v1/runs/${RANDOM_UUID}/cancel`],
  ['GET', '/api/v1/services/nope/openapi.json'],
  ['GET', '/api/v1/services/typed/v999/openapi.json'],
  ['GET', '/api/v1/nothing-here'],
  ['GET', `/submissions/${RANDOM_UUID}/in/in.txt`],
  ['GET', '/submissions/%ZZ'],
  ['GET', '/submissions/../workbench.sqlite'],
  ['GET', '/submissions/'],
] as const) {
  add(`${method} ${p.slice(0, 70)}`, () => request(method, p));
}

// F. Giant parameter lists and values.
const fields = (n: number, name = (i: number) => `p${i}`) => Array.from({ length: n }, (_, i) => part(name(i), 'v')).join('');
for (const route of POST_ROUTES) {
  add(`POST ${route} with 51 fields`, () => request('POST', route, MP('X'), core() + part('job', 'echo') + fields(51) + filePart('input_data', 'x') + '--X--\r\n'));
  add(`POST ${route} with 5000 fields`, () => request('POST', route, MP('X'), fields(5000) + '--X--\r\n'));
  add(`POST ${route} with a 300-character field name`, () => request('POST', route, MP('X'), part('n'.repeat(300), 'v') + '--X--\r\n'));
  add(`POST ${route} with a 2 KB field value`, () => request('POST', route, MP('X'), core() + part('job', 'v'.repeat(2048)) + '--X--\r\n'));
  add(`POST ${route} with a file over the upload cap`, () => request('POST', route, MP('X'), core() + part('job', 'echo') + filePart('input_data', 'x'.repeat(70_000)) + '--X--\r\n'));
}
add('POST /api/v1/services/typed with 5000 JSON keys', () =>
  request('POST', '/api/v1/services/typed', { 'Content-Type': 'application/json' }, JSON.stringify(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i])))),
);
add('POST /api/v1/services/typed with an 11 MB JSON body', () =>
  request('POST', '/api/v1/services/typed', { 'Content-Type': 'application/json' }, `{"typed_text":"${'x'.repeat(11 * 1024 * 1024)}"}`),
);

// G. Methods a route does not have.
for (const [method, p] of [
  ['PUT', '/analytics_automated/submission/'],
  ['DELETE', '/analytics_automated/submission/'],
  ['PATCH', '/analytics_automated/job/'],
  ['DELETE', `/analytics_automated/submission/${RANDOM_UUID}`],
  ['PUT', '/api/v1/services/typed'],
  ['DELETE', `/api/v1/runs/${RANDOM_UUID}`],
  ['POST', '/api/v1/services'],
  ['POST', '/submissions/x'],
] as const) {
  add(`${method} ${p}`, () => request(method, p));
}

// H. The workbench API without its token, or with garbage.
add('the workbench API without a token', () => request('GET', '/api/admin/overview'));
add('the workbench API with a wrong token', () => request('GET', '/api/admin/overview', { Authorization: 'Bearer nope' }));
add('the workbench API with a token and malformed JSON', () =>
  request('PUT', '/api/admin/settings', { Authorization: `Bearer ${t.server.token}`, 'Content-Type': 'application/json' }, '{"concurrency":'),
);
add('the workbench API with a key body of the wrong shape', () =>
  request('POST', '/api/admin/keys', { Authorization: `Bearer ${t.server.token}`, 'Content-Type': 'application/json' }, '{"name":[],"services":"all"}'),
);

const stored = () =>
  t.core.db
    .prepare('SELECT (SELECT COUNT(*) FROM batch) + (SELECT COUNT(*) FROM submission) + (SELECT COUNT(*) FROM attempt) + (SELECT COUNT(*) FROM api_key) AS n')
    .get() as { n: number };
const leftovers = () => fs.readdirSync(t.core.paths.uploads).length + fs.readdirSync(t.core.paths.tmp).length;

beforeAll(async () => {
  t = await startTestServer({
    settings: { upload_limit_bytes: 64 * 1024, upload_max_fields: 50, upload_max_field_bytes: 1024, upload_idle_timeout_ms: 400 },
  });
  port = Number(new URL(t.url).port);
  addTask(t.core.db, 'echo', 'echo hello', { out_glob: '.out', stdout_glob: '.out' });
  addJob(t.core.db, 'echo', [['echo', 0]]);
  addTask(t.core.db, 'typed', 'printf [%s] $P1 $P2 $P3 $P4', {
    parameters: [
      { flag: '-n', alias: 'count', type: 'integer', min: 1, max: 10, default: '3' },
      { flag: '--mode', alias: 'mode', type: 'enum', enum: ['fast', 'slow'], default: 'fast' },
      { flag: '-v', alias: 'verbose', bool_valued: true, default: 'false' },
      { flag: '-t', alias: 'text', switchless: true, type: 'string', max_length: 40, default: 'x' },
    ],
  });
  addJob(t.core.db, 'typed', [['typed', 0]], { runnable: false });
  publishJob(t.core.db, 'typed');
});

afterAll(async () => {
  await t?.close();
});

describe('bad input on every public route', () => {
  it('has at least 200 generated cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: 4xx with a structured body; the server keeps serving; nothing is written', async (_name, c) => {
    const before = stored().n;
    const left = leftovers();
    const reply = await c.run();
    expect(reply.status, reply.text.slice(0, 300)).toBeGreaterThanOrEqual(400);
    expect(reply.status, reply.text.slice(0, 300)).toBeLessThan(500);
    expect(reply.type).toMatch(/^application\/(problem\+)?json/);
    const body = JSON.parse(reply.text) as Record<string, unknown>;
    expect(typeof body).toBe('object');
    expect(['error', 'detail', 'title'].some((k) => k in body), reply.text).toBe(true);
    expect(reply.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    const health = await fetch(`${t.url}/analytics_automated/jobtimes/`);
    expect(health.status).toBe(200);
    expect(stored().n).toBe(before);
    // Uploads that were refused are removed as the refusal is sent; give a cut connection's clean-up a moment.
    await until(() => leftovers() <= left, 'refused uploads to be removed', 3000);
  });

  it('the server still takes a good submission afterwards', async () => {
    const form = new FormData();
    for (const [k, v] of Object.entries({ job: 'echo', submission_name: 'ok', email: 'a@b.com' })) form.append(k, v);
    form.append('input_data', new Blob(['data']), 'in.txt');
    const res = await fetch(`${t.url}/analytics_automated/submission/`, { method: 'POST', body: form });
    expect(res.status).toBe(201);
    expect(await t.core.waitFor(t.core.runs.submissionsOfBatch(t.core.runs.batch(((await res.json()) as { UUID: string }).UUID)!.id)[0].uuid, 10_000)).toBe(true);
  });
});
