// The Notifications section of Settings against a real local SMTP server: SMTP settings saved (the password never
// shown), a test mail that arrives, callback policy saved, and the signing secret rotated.
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { SMTPServer } from 'smtp-server';
import { admin, shot, startWorkbench, type Workbench } from './workbench';

let w: Workbench;
let smtp: SMTPServer;
let smtpPort = 0;
const mails: Array<{ to: string[]; text: string }> = [];
const logins: string[] = [];

test.beforeAll(async () => {
  smtp = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      logins.push(`${auth.username}:${auth.password}`);
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), text: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  w = await startWorkbench();
});

test.afterAll(async () => {
  await w?.stop();
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
});

test('notifications: SMTP settings and a test mail, callback policy, and a rotated signing secret', async ({ page }) => {
  await page.goto(w.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings', exact: true }).click();
  const section = page.getByRole('region', { name: 'Notifications' });
  await expect(section.getByTestId('email-state')).toContainText('Off');
  await section.getByLabel('SMTP server').fill('127.0.0.1');
  await section.getByLabel('Port').fill(String(smtpPort));
  await section.getByLabel('User').fill('lab');
  await section.getByLabel('Password').fill('pa55word');
  await section.getByLabel('Sender').fill('Workbench <noreply@lab.example>');
  await section.getByRole('button', { name: 'Save email settings' }).click();
  await expect(section.getByTestId('email-state')).toContainText('On');
  // The password is stored apart and only said to be set.
  await expect(section.getByLabel('Password')).toHaveValue('');
  await expect(section.getByLabel('Password')).toHaveAttribute('placeholder', 'set (type to replace)');
  const saved = await admin<{ email: Record<string, unknown> }>(w, 'GET', '/notify');
  expect(saved.email).toMatchObject({ enabled: true, smtp_host: '127.0.0.1', smtp_port: smtpPort, smtp_user: 'lab', password_set: true });
  expect(JSON.stringify(saved)).not.toContain('pa55word');

  await section.getByLabel('Test address').fill('analyst@lab.example');
  await section.getByRole('button', { name: 'Send test mail' }).click();
  await expect(page.getByText('Test mail sent to analyst@lab.example')).toBeVisible();
  await expect.poll(() => mails.length).toBe(1);
  expect(mails[0].to).toEqual(['analyst@lab.example']);
  expect(logins).toEqual(['lab:pa55word']);

  // Callbacks: on for one service, three tries, first retry after 2 s.
  await section.getByLabel('Send completion callbacks').check();
  await section.getByLabel('Services').fill('first_lines');
  await section.getByLabel('Tries at most').fill('3');
  await section.getByLabel('First retry after (s)').fill('2');
  await section.getByRole('button', { name: 'Save callback settings' }).click();
  await expect(page.getByText('Callback settings saved')).toBeVisible();
  const callbacks = (await admin<{ callbacks: Record<string, unknown> }>(w, 'GET', '/notify')).callbacks;
  expect(callbacks).toMatchObject({ enabled: true, services: ['first_lines'], max_attempts: 3, backoff_ms: 2000 });

  const before = (await section.getByTestId('callback-secret').textContent()) ?? '';
  expect(before.length).toBeGreaterThan(20);
  await section.getByRole('button', { name: 'Rotate' }).click();
  await page.getByRole('dialog', { name: 'Rotate the signing secret?' }).getByRole('button', { name: 'Rotate' }).click();
  await expect(section.getByTestId('callback-secret')).not.toHaveText(before);
  expect((await admin<{ callbacks: { secret: string } }>(w, 'GET', '/notify')).callbacks.secret).not.toBe(before);
  await expect(section.getByText('No callbacks yet.')).toBeVisible();
  await section.scrollIntoViewIfNeeded();
  await shot(page, 'settings-notifications');
});
