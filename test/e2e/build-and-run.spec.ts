// From an empty store, entirely through the UI: build A_A's tmp_count Job, publish it, POST a file over HTTP, follow the run.
import { expect, test } from '@playwright/test';
import { connect, dropOnCanvas, fillTask, shot, startWorkbench, stepOf, submit, type Workbench } from './workbench';

let w: Workbench;

test.beforeAll(async () => {
  w = await startWorkbench();
});

test.afterAll(async () => {
  await w?.stop();
});

test('tmp_count is built with mouse and keyboard, published, called over HTTP and its results open in Runs', async ({ page }) => {
  await page.goto(w.url);
  await expect(page.getByText('No jobs yet')).toBeVisible();
  await page.getByLabel('New job').fill('tmp_count');
  await page.getByRole('button', { name: 'Create job' }).click();
  await expect(page.getByTestId('node-input')).toBeVisible();
  await expect(page.getByTestId('node-output')).toBeVisible();

  // Step 1: a new Task dragged from the palette, then typed in.
  await dropOnCanvas(page, 'palette-new-task', 200, 150);
  await fillTask(page, { name: 'list_tmp', executable: 'ls /tmp', in_glob: '.input', out_glob: '.contents', stdout_glob: '.contents' });
  await expect(page.getByTestId('command-preview')).toContainText('ls /tmp');

  // Step 2.
  await dropOnCanvas(page, 'palette-new-task', 440, 150);
  await fillTask(page, { name: 'count_lines', executable: 'wc -l $I1', in_glob: '.contents', out_glob: '.count', stdout_glob: '.count' });
  await expect(page.getByTestId('command-preview')).toContainText('wc -l f7a314fe.contents');

  // Edges by dragging handle to handle: Input → list_tmp → count_lines → Output.
  await connect(page, page.getByTestId('node-input'), stepOf(page, 'list_tmp'));
  await connect(page, stepOf(page, 'list_tmp'), stepOf(page, 'count_lines'));
  await connect(page, stepOf(page, 'count_lines'), page.getByTestId('node-output'));
  await expect(page.locator('.react-flow__edge')).toHaveCount(3);

  // A validator type dragged from the palette lands on the Input.
  await dropOnCanvas(page, 'palette-validator-none', 300, 500);
  await expect(page.getByTestId('node-input')).toContainText('none');

  await expect(page.getByTestId('publish-reason')).toHaveText('Save first');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Unsaved')).toHaveCount(0);
  await expect(page.getByTestId('problems')).toContainText('No problems');
  await page.getByRole('button', { name: 'Publish', exact: true }).click();
  await expect(page.locator('.toolbar .badge', { hasText: 'Published' })).toBeVisible();
  await page.keyboard.press('f');
  await shot(page, 'designer-tmp_count');

  // A client on this machine POSTs a file, exactly as A_A clients do.
  const reply = await submit(w, 'tmp_count', { name: 'notes.txt', content: 'hello\n' });
  expect(reply.status).toBe(201);

  await page.getByRole('link', { name: 'Runs' }).click();
  const row = page.getByTestId('runs-table').locator('tbody tr').first();
  await expect(row).toContainText('tmp_count');
  await expect(row).toContainText('Complete');
  await shot(page, 'runs');

  await row.click();
  await expect(page.getByRole('heading', { name: /e2e client/ })).toBeVisible();
  await expect(page.getByTestId('attempt-step_1')).toContainText('ls /tmp');
  await expect(page.getByTestId('attempt-step_2')).toContainText(/wc -l \S+\.contents/);
  const count = page.locator('[data-testid$=".count"]');
  await expect(count).toBeVisible();
  await count.getByRole('button', { name: 'Preview' }).click();
  // wc -l prints "<lines> <file>": the listing of /tmp was counted.
  await expect(count.locator('pre')).toHaveText(/^\d+ \S+\.contents\s*$/);
  await shot(page, 'run');

  await page.getByRole('link', { name: 'Services' }).click();
  const service = page.getByTestId('service-tmp_count');
  await expect(service).toContainText('Accepting submissions');
  await expect(service.getByTestId('endpoints')).toHaveText(
    '/submission/&job=tmp_count&submission_name=[STRING]&email=[EMAIL_STRING]&input_data=[FILE]',
  );
  await expect(service.getByTestId('runs-today')).toHaveText('1');
  await shot(page, 'services');

  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByTestId('data-dir')).toHaveText(w.dataDir);
  await shot(page, 'settings');
});
