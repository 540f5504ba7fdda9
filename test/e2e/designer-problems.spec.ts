// Inline problems before publishing: a missing input, a cycle and an unwired step, with Publish disabled and the reason shown.
import { expect, test } from '@playwright/test';
import { admin, connect, dropOnCanvas, shot, startWorkbench, stepOf, type Workbench } from './workbench';

let w: Workbench;

const task = (name: string, executable: string, in_glob: string, out_glob: string) => ({
  name,
  description: null,
  backend: 'local',
  in_glob,
  out_glob,
  stdout_glob: out_glob,
  executable,
  incomplete_outputs_behaviour: 3,
  custom_exit_status: null,
  custom_exit_behaviour: null,
  timeout: null,
  retries: 0,
  parameters: [],
  environment: [],
  configuration: [],
});

test.beforeAll(async () => {
  w = await startWorkbench();
  // Saved Tasks to reuse from the palette: one makes words, the other wants a listing.
  await admin(w, 'PUT', '/tasks/make_words', task('make_words', 'wc -w $I1', '.input', '.words'));
  await admin(w, 'PUT', '/tasks/count_lines', task('count_lines', 'wc -l $I1', '.contents', '.count'));
});

test.afterAll(async () => {
  await w?.stop();
});

test('a missing input, a cycle and an unwired step are reported inline and block publishing', async ({ page }) => {
  await page.goto(w.url);
  await page.getByLabel('New job').fill('broken');
  await page.getByRole('button', { name: 'Create job' }).click();

  // Existing Tasks dragged from the palette, wired Input → make_words → count_lines → Output.
  await dropOnCanvas(page, 'palette-task-make_words', 230, 250);
  await dropOnCanvas(page, 'palette-task-count_lines', 470, 250);
  await connect(page, page.getByTestId('node-input'), stepOf(page, 'make_words'));
  await connect(page, stepOf(page, 'make_words'), stepOf(page, 'count_lines'));
  await connect(page, stepOf(page, 'count_lines'), page.getByTestId('node-output'));

  const problems = page.getByTestId('problems');
  await expect(problems).toContainText('step "count_lines" (step_2) reads ".contents" but no upstream step produces it');
  await expect(stepOf(page, 'count_lines').locator('.problem-dot')).toHaveText('1');
  await page.keyboard.press('Control+s');
  await expect(page.getByText('Unsaved')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Publish', exact: true })).toBeDisabled();
  await expect(page.getByTestId('publish-reason')).toHaveText('1 problem to fix');
  await shot(page, 'designer-missing-input');

  // A back edge makes a cycle.
  await connect(page, stepOf(page, 'count_lines'), stepOf(page, 'make_words'));
  await expect(problems).toContainText('cycle: make_words → count_lines → make_words');
  await expect(page.getByTestId('publish-reason')).toHaveText('Save first');
  await shot(page, 'designer-cycle');

  // Undo removes the back edge again; a new step dropped but not wired is reported too.
  await page.keyboard.press('Control+z');
  await expect(problems).not.toContainText('cycle');
  await dropOnCanvas(page, 'palette-task-make_words', 350, 520);
  await expect(problems).toContainText('step "make_words" (step_3) is not connected to the Input');
  await expect(problems).toContainText('step "make_words" (step_3) does not lead to the Output');

  // Clicking a problem selects the step it is about.
  await problems.getByRole('button', { name: /step_2/ }).click();
  await expect(page.getByRole('heading', { name: 'Step step_2' })).toBeVisible();

  // Copy, paste, undo and delete from the keyboard.
  await stepOf(page, 'count_lines').click();
  await page.keyboard.press('Control+c');
  await page.keyboard.press('Control+v');
  await expect(page.locator('.react-flow__node-step')).toHaveCount(4);
  await page.keyboard.press('Control+z');
  await expect(page.locator('.react-flow__node-step')).toHaveCount(3);
  await page.keyboard.press('Control+Shift+z');
  await expect(page.locator('.react-flow__node-step')).toHaveCount(4);
  await page.keyboard.press('Delete');
  await expect(page.locator('.react-flow__node-step')).toHaveCount(3);

  // Leaving with unsaved changes asks first.
  await page.getByRole('link', { name: 'Runs' }).click();
  await expect(page.getByRole('dialog', { name: 'Leave without saving?' })).toBeVisible();
  await page.getByRole('button', { name: 'Stay' }).click();
  await expect(page.getByTestId('canvas')).toBeVisible();
});
