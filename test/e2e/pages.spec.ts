// Every page beyond the designer's first steps, each with one real action: API docs with a try-it run, workers and their
// tokens, API keys, schedules, storage settings, and the task editor's typed parameters, configuration and task deletion.
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { admin, shot, startWorkbench, type Workbench } from './workbench';

let w: Workbench;

const task = (name: string, executable: string, extra: Record<string, unknown> = {}) => ({
  name,
  description: null,
  backend: 'local',
  in_glob: '.input',
  out_glob: '.head',
  stdout_glob: '.head',
  executable,
  incomplete_outputs_behaviour: 3,
  custom_exit_status: null,
  custom_exit_behaviour: null,
  timeout: null,
  retries: 0,
  parameters: [],
  environment: [],
  configuration: [],
  ...extra,
});

test.beforeAll(async () => {
  w = await startWorkbench();
  // A small published service with one typed parameter: the first lines of the uploaded file.
  await admin(w, 'PUT', '/tasks/head_lines', {
    ...task('head_lines', 'head $P1 $I1'),
    parameters: [
      { flag: '-n', alias: 'lines', default: '2', bool_valued: false, spacing: true, switchless: false, type: 'integer', min: 1, max: 100, description: 'How many lines to keep' },
    ],
  });
  await admin(w, 'PUT', '/jobs/first_lines', {
    name: 'first_lines',
    description: 'Keeps the first lines of a text file',
    validators: [],
    steps: [{ key: 'head', task: 'head_lines', after: [], x: null, y: null }],
  });
  await admin(w, 'POST', '/jobs/first_lines/publish');
  // A second job whose only Task is deleted from the palette later.
  await admin(w, 'PUT', '/tasks/spare_task', task('spare_task', 'wc -l $I1'));
  await admin(w, 'PUT', '/jobs/spare_job', { name: 'spare_job', description: null, validators: [], steps: [{ key: 's1', task: 'spare_task', after: [], x: null, y: null }] });
});

test.afterAll(async () => {
  await w?.stop();
});

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

test('each new page is reachable from the navigation and does its job', async ({ page }) => {
  await page.goto(w.url);

  // API docs, reached from the service's card; the try-it form runs the service and shows its result.
  await nav(page, 'Services').click();
  await page.getByTestId('service-first_lines').getByTestId('api-docs-link').click();
  await expect(page).toHaveURL(/#\/api\/first_lines$/);
  const op = page.getByTestId('api-op-first_lines');
  await expect(op).toContainText('How many lines to keep');
  await op.locator('#try-input_data').setInputFiles({ name: 'poem.txt', mimeType: 'text/plain', buffer: Buffer.from('one\ntwo\nthree\nfour\nfive\n') });
  await op.locator('#try-head_lines_lines').fill('3');
  await op.getByRole('button', { name: 'Send' }).click();
  const tryIt = op.getByRole('region', { name: 'Try it' });
  await expect(tryIt.locator('.badge.state-complete')).toHaveText('Complete');
  await expect(tryIt.getByRole('link', { name: /\.head$/ })).toBeVisible();
  await expect(tryIt.locator('pre.code').first()).toContainText("-F 'head_lines_lines=3'");
  await shot(page, 'api-docs');

  // Workers: a token is shown once with the command line, a worker reports in with it, and revoking shuts it out.
  await nav(page, 'Workers').click();
  await expect(page.getByTestId('scale-out-off')).toBeVisible();
  await page.getByLabel('New token for').fill('lab-gpu-1');
  await page.getByRole('button', { name: 'Create token' }).click();
  const created = page.getByRole('dialog', { name: 'Worker token “lab-gpu-1”' });
  const token = (await created.getByTestId('new-worker-token').textContent()) ?? '';
  expect(token).toMatch(/^aaw_/);
  await expect(created.getByTestId('worker-command')).toHaveText(`aa worker --server ${w.base} --token ${token}`);
  await shot(page, 'workers-new-token');
  await created.getByRole('button', { name: 'Done' }).click();
  await expect(created).toHaveCount(0);
  const heartbeat = (tokenValue: string) =>
    fetch(`${w.base}/api/worker/heartbeat`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${tokenValue}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 'lab-gpu-1:4242', host: 'lab-gpu-1', queues: ['localhost', 'python'], concurrency: 8, running: 3, completed: 120, failed: 2, version: '0.1.0' }),
    });
  expect((await heartbeat(token)).status).toBe(204);
  const worker = page.locator('[data-worker="lab-gpu-1:4242"]');
  await expect(worker).toContainText('online', { timeout: 10_000 });
  await expect(worker).toContainText('3 / 8');
  await expect(page.locator('[data-token="lab-gpu-1"]')).toContainText('live');
  await shot(page, 'workers');
  await page.getByRole('button', { name: 'Revoke token lab-gpu-1' }).click();
  await page.getByRole('dialog', { name: 'Revoke “lab-gpu-1”?' }).getByRole('button', { name: 'Revoke token' }).click();
  await expect(page.locator('[data-token="lab-gpu-1"]')).toContainText('revoked');
  expect((await heartbeat(token)).status).toBe(401);

  // Access: an API key scoped to one service, shown once, then revoked.
  await nav(page, 'Access').click();
  await expect(page.getByTestId('lan-state')).toHaveText('This computer only');
  const form = page.getByRole('form', { name: 'New API key' });
  await form.getByLabel('Name', { exact: true }).fill('lab website');
  await form.getByText('only:').click();
  await form.getByLabel('Key may call first_lines').check();
  await form.getByRole('button', { name: 'Create key' }).click();
  const keyDialog = page.getByRole('dialog', { name: 'API key “lab website”' });
  await expect(keyDialog.getByTestId('new-api-key')).toHaveText(/^aak_[0-9a-f]{8}_\S{32}$/);
  await expect(keyDialog).toContainText('It may call first_lines');
  await shot(page, 'access-new-key');
  await keyDialog.getByRole('button', { name: 'Done' }).click();
  const keyRow = page.locator('[data-key="lab website"]');
  await expect(keyRow).toContainText('first_lines');
  await expect(keyRow).toContainText('live');
  await shot(page, 'access');
  await page.getByRole('button', { name: 'Revoke key lab website' }).click();
  await page.getByRole('dialog', { name: 'Revoke “lab website”?' }).getByRole('button', { name: 'Revoke key' }).click();
  await expect(keyRow).toContainText('revoked');
  const keys = await admin<Array<{ name: string; revoked_at: string | null; services: string[] | null }>>(w, 'GET', '/keys');
  expect(keys).toEqual([expect.objectContaining({ name: 'lab website', services: ['first_lines'], revoked_at: expect.any(String) })]);

  // Limits per service: an upload cap and a deadline of its own; emptied again, the global settings apply.
  const limits = page.getByTestId('service-limits').locator('[data-service="first_lines"]');
  await limits.getByLabel('first_lines: Upload (MiB)').fill('5');
  await limits.getByLabel('first_lines: Deadline (s)').fill('120');
  await limits.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Limits of first_lines saved')).toBeVisible();
  expect(await admin(w, 'GET', '/service-policies/first_lines')).toMatchObject({ upload_limit_bytes: 5 * 1024 * 1024, deadline_s: 120, max_active: null });
  await expect(limits.getByLabel('first_lines: Upload (MiB)')).toHaveValue('5');
  await shot(page, 'access-service-limits');
  await limits.getByLabel('first_lines: Upload (MiB)').fill('');
  await limits.getByRole('button', { name: 'Save' }).click();
  await expect.poll(async () => (await admin<{ upload_limit_bytes: number | null }>(w, 'GET', '/service-policies/first_lines')).upload_limit_bytes).toBeNull();

  // Schedules: a nightly run of the service with its parameter and an input file, then deleted.
  await nav(page, 'Schedules').click();
  await page.getByRole('button', { name: 'New schedule' }).click();
  const schedule = page.getByRole('form', { name: 'New schedule' });
  await schedule.getByLabel('Job', { exact: true }).selectOption('first_lines');
  await schedule.getByLabel('Cron expression').fill('30 2 * * *');
  await expect(page.getByTestId('cron-preview')).toContainText('Next:');
  await schedule.getByRole('group', { name: 'Parameters' }).getByRole('textbox').fill('4');
  await schedule.getByLabel('Input file').setInputFiles({ name: 'nightly.txt', mimeType: 'text/plain', buffer: Buffer.from('a\nb\nc\nd\ne\n') });
  await shot(page, 'schedules-new');
  await schedule.getByRole('button', { name: 'Create schedule' }).click();
  const row = page.getByTestId('schedules-table').locator('tbody tr');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('30 2 * * *');
  await expect(row.getByTestId('next-run')).not.toHaveText('off');
  await expect(row).toContainText('nightly.txt');
  await shot(page, 'schedules');
  page.once('dialog', (d) => void d.accept());
  await row.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByText('No schedules yet')).toBeVisible();
  expect(await admin<unknown[]>(w, 'GET', '/schedules')).toEqual([]);

  // Settings: the Redis URL waits for a restart; the storage gauge and retention sit with the data directory.
  await nav(page, 'Settings').click();
  await expect(page.getByTestId('storage-gauge')).toContainText('in the data directory');
  await page.getByLabel('Redis URL').fill('redis://127.0.0.1:6399');
  await page.getByLabel('Keep runs for (days)').fill('14');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Restart the workbench to apply' })).toContainText('redis_url');
  const saved = await admin<{ settings: { redis_url: string | null; retain_days: number | null } }>(w, 'GET', '/settings');
  expect(saved.settings).toMatchObject({ redis_url: 'redis://127.0.0.1:6399', retain_days: 14 });
  await page.getByTestId('storage-gauge').getByRole('button', { name: 'Apply retention now' }).click();
  await expect(page.getByTestId('storage-gauge')).toContainText('Last sweep');
  await shot(page, 'settings-storage');
  await page.getByLabel('Redis URL').fill('');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect.poll(async () => (await admin<{ settings: { redis_url: string | null } }>(w, 'GET', '/settings')).settings.redis_url).toBeNull();
});

test('the task editor sets typed parameters and configuration, and the palette deletes a task after naming its jobs', async ({ page }) => {
  await page.goto(w.url);
  await page.getByRole('link', { name: 'first_lines' }).click();
  await page.locator('.step-node[data-task="head_lines"]').click();
  const panel = page.getByRole('complementary', { name: 'Properties' });
  await expect(panel.getByLabel('Parameter 1 type')).toHaveValue('integer');
  await panel.getByLabel('Parameter 1 max').fill('50');

  // A second parameter becomes an enum of two values.
  await panel.getByRole('button', { name: '+ Parameter' }).click();
  await panel.getByLabel('Parameter 2 flag').fill('--mode');
  await panel.getByLabel('Parameter 2 alias').fill('mode');
  await panel.getByLabel('Parameter 2 type').selectOption('enum');
  await panel.getByLabel('Parameter 2 values').fill('fast, careful');
  await panel.getByLabel('Parameter 2 default').fill('fast');
  await panel.getByLabel('Parameter 2 description').fill('How hard to look');

  await panel.getByRole('button', { name: '+ Entry' }).click();
  await panel.getByLabel('Configuration 1 type').selectOption({ label: 'Software' });
  await panel.getByLabel('Configuration 1 name').fill('coreutils');
  await panel.getByLabel('Configuration 1 version').fill('9.1');
  await panel.getByLabel('Parameter 1 type').scrollIntoViewIfNeeded();
  await shot(page, 'designer-task-editor');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Unsaved')).toHaveCount(0);

  const stored = await admin<{ parameters: Array<Record<string, unknown>>; configuration: unknown[] }>(w, 'GET', '/tasks/head_lines');
  expect(stored.parameters[0]).toMatchObject({ alias: 'lines', type: 'integer', min: 1, max: 50 });
  expect(stored.parameters[1]).toMatchObject({ flag: '--mode', alias: 'mode', type: 'enum', enum: ['fast', 'careful'], default: 'fast', description: 'How hard to look' });
  expect(stored.configuration).toEqual([{ type: 0, name: 'coreutils', parameters: null, version: '9.1' }]);
  // A_A clients see the configuration with its type label.
  const detail = (await (await fetch(`${w.base}/analytics_automated/job/first_lines`)).json()) as { steps: Array<{ task: { configuration: unknown[] } }> };
  expect(detail.steps[0].task.configuration).toEqual([{ type: 'Software', name: 'coreutils', parameters: null, version: '9.1' }]);

  // Deleting a Task from the palette names the jobs that use it first.
  await page.getByTestId('palette-task-spare_task').hover();
  await page.getByRole('button', { name: 'Delete task spare_task' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete task “spare_task”?' });
  await expect(confirm.getByTestId('task-users')).toContainText('Used by the job spare_job');
  await shot(page, 'designer-delete-task');
  await confirm.getByRole('button', { name: 'Delete task' }).click();
  await expect(page.getByTestId('palette-task-spare_task')).toHaveCount(0);
  expect((await admin<{ steps: unknown[] }>(w, 'GET', '/jobs/spare_job')).steps).toEqual([]);
});

test('CWL files import into the designer, and a saved job exports as a CWL zip', async ({ page }) => {
  await page.goto(w.url);
  await nav(page, 'Designer').click();
  const dir = path.join(__dirname, '..', 'fixtures', 'cwl');
  await page.getByLabel('CWL files').setInputFiles(['sort-lines.cwl', 'number-lines.cwl', 'sort-and-number.cwl'].map((f) => path.join(dir, f)));
  await expect(page.getByText(/^Imported from CWL: /)).toContainText('1 jobs');
  const card = page.getByRole('link', { name: 'sort_and_number', exact: true });
  await expect(card).toBeVisible();
  await card.click();
  const exportLink = page.getByRole('link', { name: 'Export CWL' });
  await expect(exportLink).toBeVisible();
  await shot(page, 'designer-cwl');
  const zip = await page.request.get(new URL((await exportLink.getAttribute('href')) ?? '', w.base).toString());
  expect(zip.status()).toBe(200);
  const bytes = await zip.body();
  expect(bytes.subarray(0, 2).toString()).toBe('PK');
  expect(bytes.toString('latin1')).toContain('sort_and_number.cwl');
});

