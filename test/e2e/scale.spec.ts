// Measured, not assumed: the designer with 200 steps and the runs list over 10,000 runs (figures saved as artefacts).
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, test, type Page } from '@playwright/test';
import { admin, shot, startWorkbench, stepNodes, type Workbench } from './workbench';

let w: Workbench;
const RESULTS = path.join(__dirname, '..', '..', 'test-results');

test.beforeAll(async () => {
  w = await startWorkbench();
});

test.afterAll(async () => {
  await w?.stop();
});

function record(name: string, figures: Record<string, unknown>): void {
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, `${name}.json`), JSON.stringify(figures, null, 2));
  console.log(name, JSON.stringify(figures));
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/** Frame intervals (ms) while `action` runs, from requestAnimationFrame in the page. */
async function frames(page: Page, action: () => Promise<void>): Promise<number[]> {
  await page.evaluate(() => {
    const win = window as unknown as { __frames: number[]; __measuring: boolean };
    win.__frames = [];
    win.__measuring = true;
    let last = performance.now();
    const tick = (t: number) => {
      win.__frames.push(t - last);
      last = t;
      if (win.__measuring) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await action();
  return page.evaluate(() => {
    const win = window as unknown as { __frames: number[]; __measuring: boolean };
    win.__measuring = false;
    return win.__frames.slice(1);
  });
}

test('the designer stays smooth with 200 steps', async ({ page }) => {
  await admin(w, 'PUT', '/tasks/step_task', {
    name: 'step_task',
    description: null,
    backend: 'local',
    in_glob: '.out',
    out_glob: '.out',
    stdout_glob: '.out',
    executable: 'cat $I1',
    incomplete_outputs_behaviour: 3,
    custom_exit_status: null,
    custom_exit_behaviour: null,
    timeout: null,
    retries: 0,
    parameters: [],
    environment: [],
    configuration: [],
  });
  // 20 stages of 10 parallel steps, each fed by its neighbour in the stage before; no stored positions.
  const steps = Array.from({ length: 200 }, (_, i) => ({
    key: `s${i}`,
    task: 'step_task',
    after: i >= 10 ? [`s${i - 10}`] : [],
    x: null,
    y: null,
  }));
  await admin(w, 'PUT', '/jobs/big', { name: 'big', description: null, validators: [], steps });

  await page.goto(w.url);
  await expect(page.getByRole('link', { name: 'big' })).toBeVisible();
  const openStart = Date.now();
  await page.getByRole('link', { name: 'big' }).click();
  await expect(stepNodes(page)).toHaveCount(200);
  await expect(page.getByTestId('problems')).toContainText('No problems');
  const openMs = Date.now() - openStart;

  // Drag one step across the canvas with the mouse.
  const box = (await page.locator('[data-testid="step-s105"]').boundingBox()) as { x: number; y: number; width: number; height: number };
  const dragStart = Date.now();
  const dragFrames = await frames(page, async () => {
    await page.mouse.move(box.x + box.width / 2, box.y + 8);
    await page.mouse.down();
    for (let i = 1; i <= 60; i++) await page.mouse.move(box.x + box.width / 2 + i * 3, box.y + 8 + i * 2);
    await page.mouse.up();
  });
  const dragMs = Date.now() - dragStart;
  await expect(page.getByText('Unsaved')).toBeVisible();

  // Pan the whole canvas by dragging its background.
  const canvasBox = (await page.getByTestId('canvas').boundingBox()) as { x: number; y: number; width: number; height: number };
  const panFrames = await frames(page, async () => {
    await page.mouse.move(canvasBox.x + 30, canvasBox.y + canvasBox.height - 200);
    await page.mouse.down();
    for (let i = 1; i <= 40; i++) await page.mouse.move(canvasBox.x + 30 + i * 4, canvasBox.y + canvasBox.height - 200 - i);
    await page.mouse.up();
  });

  // Auto-layout, undo and select-all over all 200 steps.
  const layoutStart = Date.now();
  await page.keyboard.press('l');
  await page.keyboard.press('Control+z');
  await page.keyboard.press('Control+a');
  await expect(page.locator('.step-node.selected')).toHaveCount(200);
  const editMs = Date.now() - layoutStart;
  await shot(page, 'designer-200-steps');

  const figures = {
    steps: 200,
    open_ms: openMs,
    drag_60_moves_ms: dragMs,
    drag_per_move_ms: Math.round(dragMs / 60),
    drag_frame_p50_ms: Math.round(percentile(dragFrames, 50)),
    drag_frame_p95_ms: Math.round(percentile(dragFrames, 95)),
    pan_frame_p50_ms: Math.round(percentile(panFrames, 50)),
    pan_frame_p95_ms: Math.round(percentile(panFrames, 95)),
    layout_undo_select_all_ms: editMs,
  };
  record('perf-designer-200', figures);
  // Bounds for a loaded 2-core machine with software rendering; the recorded figures are the measurement.
  expect(openMs).toBeLessThan(10_000);
  expect(figures.drag_frame_p50_ms).toBeLessThanOrEqual(50);
  expect(figures.pan_frame_p50_ms).toBeLessThanOrEqual(50);
  expect(figures.drag_frame_p95_ms).toBeLessThan(250);
});

test('the runs list stays fast over 10,000 runs', async ({ page }) => {
  // Seed 10,000 finished runs straight into the store (the server keeps running; SQLite WAL allows it).
  const db = new Database(path.join(w.dataDir, 'workbench.sqlite'));
  db.pragma('busy_timeout = 5000');
  const now = Date.now();
  db.transaction(() => {
    const batch = db.prepare('INSERT INTO batch (uuid, status, ip, created_at) VALUES (?, ?, ?, ?)');
    const sub = db.prepare(
      `INSERT INTO submission (uuid, batch_id, job_name, submission_name, email, ip, priority, input_path, input_name, input_size,
         params, plan, status, last_message, created_at, modified_at, finished_at)
       VALUES (?, ?, ?, ?, 'a@b.com', ?, 1, 'submissions/none/in/x.txt', 'x.txt', 6, '{}', '{"steps":[]}', ?, ?, ?, ?, ?)`,
    );
    for (let i = 0; i < 10_000; i++) {
      const created = new Date(now - (10_000 - i) * 60_000).toISOString();
      const finished = new Date(now - (10_000 - i) * 60_000 + 1500 + (i % 7) * 100).toISOString();
      const status = i % 10 === 0 ? 3 : 2;
      const ip = `10.0.${i % 4}.${(i % 50) + 1}`;
      const id = Number(batch.run(`seed-batch-${i}`, status, ip, created).lastInsertRowid);
      sub.run(`seed-${String(i).padStart(5, '0')}`, id, i % 2 ? 'alpha' : 'beta', `seeded ${i}`, ip, status, status === 2 ? 'Completed job at step #1' : 'Failed', created, finished, finished);
    }
  })();
  db.close();

  const time = async (route: string) => {
    const start = performance.now();
    const body = await admin<{ runs: Array<{ id: number }>; total: number; next: number | null }>(w, 'GET', route);
    return { ms: Math.round(performance.now() - start), body };
  };
  const first = await time('/runs?limit=50');
  expect(first.body.total).toBe(10_000);
  const deep = await time(`/runs?limit=50&before=${first.body.runs[0].id - 9_000}`);
  const byJob = await time('/runs?job=alpha&limit=50');
  const byState = await time('/runs?state=Error&limit=50');
  const byClient = await time('/runs?client=10.0.1.2&limit=50');
  expect(byJob.body.total).toBe(5_000);
  expect(byState.body.total).toBe(1_000);

  await page.goto(w.url);
  const uiStart = Date.now();
  await page.getByRole('link', { name: 'Runs' }).click();
  await expect(page.getByTestId('runs-total')).toHaveText('10,000 runs');
  await expect(page.getByTestId('runs-table').locator('tbody tr')).toHaveCount(50);
  const uiFirstMs = Date.now() - uiStart;

  const pageTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before = await page.getByTestId('runs-table').locator('tbody tr').first().getAttribute('data-uuid');
    const start = Date.now();
    await page.getByRole('button', { name: 'Older →' }).click();
    await expect(page.getByTestId('runs-table').locator('tbody tr').first()).not.toHaveAttribute('data-uuid', before as string);
    pageTimes.push(Date.now() - start);
  }
  await expect(page.getByText('Page 6 of 200')).toBeVisible();

  const filterStart = Date.now();
  await page.getByLabel('Filter by state').selectOption('Error');
  await expect(page.getByTestId('runs-total')).toHaveText('1,000 runs match');
  const uiFilterMs = Date.now() - filterStart;
  await shot(page, 'runs-10000');

  const figures = {
    runs: 10_000,
    api_first_page_ms: first.ms,
    api_page_9000_deep_ms: deep.ms,
    api_filter_job_ms: byJob.ms,
    api_filter_state_ms: byState.ms,
    api_filter_client_ms: byClient.ms,
    ui_first_page_ms: uiFirstMs,
    ui_older_page_ms: pageTimes,
    ui_filter_ms: uiFilterMs,
  };
  record('perf-runs-10000', figures);
  for (const ms of [first.ms, deep.ms, byJob.ms, byState.ms, byClient.ms]) expect(ms).toBeLessThan(250);
  expect(uiFirstMs).toBeLessThan(3_000);
  expect(Math.max(...pageTimes)).toBeLessThan(1_500);
});
