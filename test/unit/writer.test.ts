// GroupWriter: one transaction per event-loop turn, one failing write rolls back only itself, durable writes fsync.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src-main/core/store/db';
import { GroupWriter } from '../../src-main/core/store/writer';
import { tempDir } from '../support/server';

function store() {
  const dir = tempDir('aa-writer-');
  const file = path.join(dir, 'w.sqlite');
  const db = openDb(file);
  db.exec('CREATE TABLE t (v INTEGER UNIQUE)');
  return { db, file, writer: new GroupWriter(db, file) };
}

describe('GroupWriter', () => {
  it('commits writes queued in one turn together and resolves each with its own value', async () => {
    const { db, writer } = store();
    const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
    const results = await Promise.all([1, 2, 3].map((v) => writer.write(() => Number(ins.run(v).lastInsertRowid))));
    expect(results).toEqual([1, 2, 3]);
    expect(db.prepare('SELECT COUNT(*) n FROM t').get()).toEqual({ n: 3 });
    writer.close();
  });

  it('rolls back only the write that failed', async () => {
    const { db, writer } = store();
    const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
    const outcomes = await Promise.allSettled([
      writer.write(() => ins.run(1)),
      writer.write(() => {
        ins.run(2);
        ins.run(1); // unique violation: this write's first insert must vanish too
      }),
      writer.write(() => ins.run(3)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((db.prepare('SELECT v FROM t ORDER BY v').all() as Array<{ v: number }>).map((r) => r.v)).toEqual([1, 3]);
    writer.close();
  });

  it('resolves a durable write after the WAL is synced, and the row survives reopening', async () => {
    const { db, file, writer } = store();
    await writer.write(() => db.prepare('INSERT INTO t (v) VALUES (42)').run(), { durable: true });
    expect(fs.existsSync(`${file}-wal`)).toBe(true);
    writer.close();
    db.close();
    const again = openDb(file);
    expect(again.prepare('SELECT v FROM t').get()).toEqual({ v: 42 });
  });

  it('refuses writes after close', async () => {
    const { writer } = store();
    writer.close();
    await expect(writer.write(() => 1)).rejects.toThrow('store is closed');
  });
});
