// Spare stdout files: made ahead in the working root, renamed into place, removed with the process's spare folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpareFiles } from '../../src-worker/exec/spare-files';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-spares-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const area = path.join(root, `.spare-${process.pid}`);
const spareInodes = () => (fs.existsSync(area) ? fs.readdirSync(area).map((n) => fs.statSync(path.join(area, n)).ino) : []);
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('spare stdout files', () => {
  it('makes the first file directly, keeps four spares ready, and hands a spare out as the next file', async () => {
    const pool = new SpareFiles();
    const a = path.join(root, 'run-a-1');
    fs.mkdirSync(a);
    fs.closeSync(pool.open(path.join(a, 'x.out'), root));
    expect(fs.readFileSync(path.join(a, 'x.out'), 'utf8')).toBe('');
    await until(() => spareInodes().length === 4);
    const ready = spareInodes();

    const b = path.join(root, 'run-b-1');
    fs.mkdirSync(b);
    const fd = pool.open(path.join(b, 'y.out'), root);
    fs.writeSync(fd, 'hello');
    fs.closeSync(fd);
    expect(ready).toContain(fs.statSync(path.join(b, 'y.out')).ino);
    expect(fs.readFileSync(path.join(b, 'y.out'), 'utf8')).toBe('hello');
    // Taking one makes another.
    await until(() => spareInodes().length === 4);

    pool.clear();
    expect(fs.existsSync(area)).toBe(false);
  });

  it('still makes the file when its spares were removed from under it', async () => {
    const pool = new SpareFiles();
    const a = path.join(root, 'run-c-1');
    fs.mkdirSync(a);
    fs.closeSync(pool.open(path.join(a, 'x.out'), root));
    await until(() => spareInodes().length === 4);
    fs.rmSync(area, { recursive: true, force: true });
    const fd = pool.open(path.join(a, 'again.out'), root);
    fs.closeSync(fd);
    expect(fs.existsSync(path.join(a, 'again.out'))).toBe(true);
    pool.clear();
  });
});
