// Two parallel steps feeding a failing step, built through the UI; a designer test run lights the nodes; an HTTP run ends in Error.
import { expect, test } from '@playwright/test';
import { connect, dropOnCanvas, fillTask, shot, startWorkbench, stepOf, submit, type Workbench } from './workbench';

let w: Workbench;

test.beforeAll(async () => {
  w = await startWorkbench();
});

test.afterAll(async () => {
  await w?.stop();
});

test('parallel steps run side by side, the failing step fails the run, and every attempt is inspectable', async ({ page }) => {
  await page.goto(w.url);
  await page.getByLabel('New job').fill('par_fail');
  await page.getByRole('button', { name: 'Create job' }).click();

  await dropOnCanvas(page, 'palette-new-task', 230, 200);
  await fillTask(page, { name: 'count_bytes', executable: 'wc -c $I1', in_glob: '.input', out_glob: '.bytes', stdout_glob: '.bytes' });
  await dropOnCanvas(page, 'palette-new-task', 230, 480);
  await fillTask(page, { name: 'count_words', executable: 'wc -w $I1', in_glob: '.input', out_glob: '.words', stdout_glob: '.words' });
  await dropOnCanvas(page, 'palette-new-task', 470, 340);
  await fillTask(page, { name: 'list_missing', executable: 'ls /no/such/dir', in_glob: '.bytes', out_glob: '.listing', stdout_glob: '.listing' });

  const input = page.getByTestId('node-input');
  const output = page.getByTestId('node-output');
  await connect(page, input, stepOf(page, 'count_bytes'));
  await connect(page, input, stepOf(page, 'count_words'));
  await connect(page, stepOf(page, 'count_bytes'), stepOf(page, 'list_missing'));
  await connect(page, stepOf(page, 'count_words'), stepOf(page, 'list_missing'));
  await connect(page, stepOf(page, 'list_missing'), output);
  await expect(page.locator('.react-flow__edge')).toHaveCount(5);

  // The canvas shows which steps share a stage and so run in parallel.
  await expect(stepOf(page, 'count_bytes').locator('.stage-chip')).toHaveText('stage 1 ∥2');
  await expect(stepOf(page, 'count_words').locator('.stage-chip')).toHaveText('stage 1 ∥2');
  await expect(stepOf(page, 'list_missing').locator('.stage-chip')).toHaveText('stage 2');

  await page.keyboard.press('Control+s');
  await expect(page.getByText('Unsaved')).toHaveCount(0);
  await page.getByRole('button', { name: 'Publish', exact: true }).click();
  await expect(page.locator('.toolbar .badge', { hasText: 'Published' })).toBeVisible();

  // Test run from the designer: nodes light up with their state.
  await page.getByRole('tab', { name: 'Test run' }).click();
  await page.getByLabel('Input file').setInputFiles({ name: 'words.txt', mimeType: 'text/plain', buffer: Buffer.from('one two three\n') });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(stepOf(page, 'count_bytes')).toHaveAttribute('data-run-state', 'done');
  await expect(stepOf(page, 'count_words')).toHaveAttribute('data-run-state', 'done');
  await expect(stepOf(page, 'list_missing')).toHaveAttribute('data-run-state', 'failed');
  await expect(page.getByTestId('test-status')).toContainText('Error');

  // Clicking a node opens its attempt.
  await stepOf(page, 'list_missing').click();
  const attempt = page.getByTestId('attempt-view');
  await expect(attempt).toContainText('ls /no/such/dir');
  await expect(attempt).toContainText(/No such file or directory/);
  await stepOf(page, 'count_words').click();
  await expect(attempt).toContainText(/3 \S+\.input/);
  await shot(page, 'designer-test-run');

  // A client call over HTTP ends in Error, visible in Runs.
  const reply = await submit(w, 'par_fail', { name: 'words.txt', content: 'alpha beta\n' });
  expect(reply.status).toBe(201);
  await page.getByRole('link', { name: 'Runs' }).click();
  const rows = page.getByTestId('runs-table').locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText('e2e client');
  await expect(rows.first()).toContainText('Error');

  await page.getByLabel('Filter by state').selectOption('Error');
  await expect(page.getByTestId('runs-total')).toContainText('2 runs');
  await rows.first().click();
  await expect(page.getByTestId('attempt-step_1')).toContainText('done');
  await expect(page.getByTestId('attempt-step_2')).toContainText('done');
  const failed = page.getByTestId('attempt-step_3');
  await expect(failed).toContainText('failed');
  await expect(failed.getByTestId('exit-code')).toHaveText('2');
  await expect(page.getByTestId('timeline').locator('.bar.run-failed')).toHaveCount(1);
  await expect(page.locator('[data-testid$=".bytes"]')).toBeVisible();
  await expect(page.locator('[data-testid$=".words"]')).toBeVisible();
  await shot(page, 'run-failed');
});
