// Completion email against a real local SMTP server: A_A's subject and bodies, one mail per batch, SMTP login, the test mail.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { pollBatch, postSubmission, startTestServer, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';
import { completionBody, completionSubject } from '../../src-main/core/notify/email';
import { DEFAULT_SETTINGS } from '../../src-main/core/settings';

interface Received {
  from: string;
  to: string[];
  headers: Record<string, string>;
  body: string;
}

/** Quoted-printable and folded headers, enough to read what nodemailer writes. */
function parse(raw: string): { headers: Record<string, string>; body: string } {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = rest.join('\r\n\r\n');
  if (/quoted-printable/i.test(headers['content-transfer-encoding'] ?? '')) {
    body = Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  }
  return { headers, body: body.replace(/\r\n/g, '\n').replace(/\n$/, '') };
}

let t: TestServer;
let smtp: SMTPServer;
let smtpPort = 0;
const mails: Received[] = [];
const logins: string[] = [];

const admin = (p: string, init: RequestInit = {}) =>
  fetch(`${t.url}/api/admin${p}`, {
    ...init,
    headers: { Authorization: `Bearer ${t.server.token}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) },
  });

async function mailFor(batchUuid: string, timeoutMs = 10_000): Promise<Received[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = mails.filter((m) => (m.headers.subject ?? '').endsWith(batchUuid));
    if (found.length || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  smtp = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      logins.push(`${auth.username}:${auth.password}`);
      if (auth.username === 'aa' && auth.password === 's3cret') callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const { headers, body } = parse(Buffer.concat(chunks).toString('utf8'));
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), headers, body });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;

  t = await startTestServer({ settings: { queue_hog_size: null, queue_hard_limit: null } });
  addTask(t.core.db, 'hello', 'echo hello');
  addTask(t.core.db, 'broken', 'false');
  addJob(t.core.db, 'greet', [['hello', 0]]);
  addJob(t.core.db, 'greet_too', [['hello', 0]]);
  addJob(t.core.db, 'fail', [['broken', 0]]);
});

afterAll(async () => {
  await t?.close();
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
});

describe('completion email', () => {
  it('is off until an SMTP host and a sender are set: nothing is sent for a finished batch', async () => {
    const post = await postSubmission(t.url, { job: 'greet', submission_name: 'quiet', email: 'user@example.org' }, { name: 'in.txt', content: 'x' });
    await pollBatch(t.url, post.body.UUID);
    expect(await mailFor(post.body.UUID, 500)).toEqual([]);
    expect((await (await admin('/notify')).json()).email.enabled).toBe(false);
  });

  it('the SMTP settings are saved through the workbench API; the password is stored but never shown', async () => {
    const res = await admin('/notify/email', {
      method: 'PUT',
      body: JSON.stringify({ smtp_host: '127.0.0.1', smtp_port: smtpPort, smtp_user: 'aa', smtp_password: 's3cret', email_from: 'workbench@example.org' }),
    });
    expect(res.status).toBe(200);
    const view = await res.json();
    expect(view.email).toMatchObject({ enabled: true, smtp_host: '127.0.0.1', smtp_port: smtpPort, smtp_user: 'aa', password_set: true, email_subject: 'A_A Job Completion' });
    expect(JSON.stringify(view)).not.toContain('s3cret');
    expect((await admin('/notify/email', { method: 'PUT', body: JSON.stringify({ smtp_port: 0, colour: 'red' }) })).status).toBe(400);
  });

  it("a completed batch mails its address once, with A_A's subject and success body", async () => {
    const post = await postSubmission(t.url, { job: 'greet', submission_name: 'ok', email: 'user@example.org' }, { name: 'in.txt', content: 'x' });
    const uuid = post.body.UUID as string;
    expect((await pollBatch(t.url, uuid)).state).toBe('Complete');
    const [mail, ...more] = await mailFor(uuid);
    expect(more).toEqual([]);
    expect(mail.to).toEqual(['user@example.org']);
    expect(mail.from).toBe('workbench@example.org');
    expect(mail.headers.subject).toBe(`greet : A_A Job Completion: ${uuid}`);
    expect(mail.body).toBe(`Your analysis is complete.\nYou can retrieve the results from http://127.0.0.1:4000/interface/&uuid=${uuid}`);
    expect(logins).toContain('aa:s3cret');
  });

  it('a batch of two jobs is one mail, sent when the whole batch is complete', async () => {
    const post = await postSubmission(t.url, { job: 'greet,greet_too', submission_name: 'two', email: 'both@example.org' }, { name: 'in.txt', content: 'x' });
    await pollBatch(t.url, post.body.UUID);
    await new Promise((r) => setTimeout(r, 300));
    expect(await mailFor(post.body.UUID)).toHaveLength(1);
  });

  it("a failed batch gets A_A's failure body with the run's last message", async () => {
    const post = await postSubmission(t.url, { job: 'fail', submission_name: 'bad', email: 'user@example.org' }, { name: 'in.txt', content: 'x' });
    const uuid = post.body.UUID as string;
    const batch = await pollBatch(t.url, uuid);
    expect(batch.state).toBe('Error');
    const [mail] = await mailFor(uuid);
    const sub = t.core.runs.submissionsOfBatch(t.core.runs.batch(uuid)!.id)[0];
    expect(mail.body).toBe(
      `Job ${uuid} has failed\n\nPlease contact the server administrator with the job ID and the following error message\n\n${sub.last_message}`,
    );
    expect(sub.last_message).toMatch(/Exit status 1/);
    expect((await (await admin('/notify/email/outbox')).json())[0]).toMatchObject({ batch_uuid: uuid, state: 'sent', attempts: 1 });
  });

  it('the test mail goes out with the saved settings; a wrong password is reported, not thrown', async () => {
    const ok = await (await admin('/notify/email/test', { method: 'POST', body: JSON.stringify({ to: 'admin@example.org' }) })).json();
    expect(ok).toMatchObject({ sent: true, accepted: ['admin@example.org'] });
    expect(mails.some((m) => m.to.includes('admin@example.org') && m.headers.subject === 'A_A Job Completion: test')).toBe(true);

    await admin('/notify/email', { method: 'PUT', body: JSON.stringify({ smtp_password: 'wrong' }) });
    const bad = await (await admin('/notify/email/test', { method: 'POST', body: JSON.stringify({ to: 'admin@example.org' }) })).json();
    expect(bad.sent).toBe(false);
    expect(bad.error).toMatch(/Invalid username or password/);
  });
});

describe('the mail texts', () => {
  it("follow A_A's strings exactly", () => {
    expect(completionSubject(DEFAULT_SETTINGS, 'psipred', 'b-1')).toBe('psipred : A_A Job Completion: b-1');
    expect(completionBody({ email_message: 'Done: ' }, 'b-1', true, 'ignored')).toBe('Done: b-1');
    expect(completionBody(DEFAULT_SETTINGS, 'b-1', false, 'Unable to call commandRunner.run_cmd(): Exit status 1')).toBe(
      'Job b-1 has failed\n\nPlease contact the server administrator with the job ID and the following error message\n\nUnable to call commandRunner.run_cmd(): Exit status 1',
    );
  });
});
