// Scale-out rules that need no Redis: queue names and priorities, job ids, the Redis address a worker uses, tokens.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attemptJobId, bullQueueFor, commandOnWorker, isPlainFileName, redisOptions, redisUrlForWorker } from '../../src-main/core/queue/protocol';
import { createWorkerToken, listWorkerTokens, listWorkers, recordHeartbeat, revokeWorkerToken, verifyWorkerToken } from '../../src-main/core/queue/worker-registry';
import { openDb } from '../../src-main/core/store/db';
import { tempDir } from './scaleout-harness';

describe('queues and priorities', () => {
  it("maps A_A's low_/normal/high_ queues to one BullMQ queue per queue type, high running first", () => {
    expect(bullQueueFor('low_localhost', 0)).toEqual({ queue: 'localhost', priority: 3 });
    expect(bullQueueFor('localhost', 1)).toEqual({ queue: 'localhost', priority: 2 });
    expect(bullQueueFor('high_Python', 2)).toEqual({ queue: 'Python', priority: 1 });
  });

  it('keeps a queue type whose own name starts like a priority prefix', () => {
    expect(bullQueueFor('high_mem', 1)).toEqual({ queue: 'high_mem', priority: 2 });
    expect(bullQueueFor('high_high_mem', 2)).toEqual({ queue: 'high_mem', priority: 1 });
  });

  it('turns characters BullMQ keys cannot hold into underscores', () => {
    expect(bullQueueFor('gpu:large nodes', 1).queue).toBe('gpu_large_nodes');
  });

  it('gives every attempt a stable job id, so queuing it twice is a no-op', () => {
    expect(attemptJobId('u-1', 's1', 2)).toBe('u-1.s1.2');
    expect(attemptJobId('u-1', 'a:b.c', 1)).toBe('u-1.a~3ab~2ec.1');
    expect(attemptJobId('u-1', 'a_b', 1)).not.toBe(attemptJobId('u-1', 'a.b', 1));
  });
});

describe('the Redis address a worker uses', () => {
  it("replaces a loopback Redis host with the server's host as the worker sees it", () => {
    expect(redisUrlForWorker('redis://127.0.0.1:6379', 'http://lab-pc:8610')).toBe('redis://lab-pc:6379');
    expect(redisUrlForWorker('redis://localhost:6380/2', 'http://10.1.2.3:8610')).toBe('redis://10.1.2.3:6380/2');
  });

  it('keeps a Redis that already has a network address, with its password', () => {
    expect(redisUrlForWorker('redis://:s3cret@redis.lab:6379', 'http://lab-pc:8610')).toBe('redis://:s3cret@redis.lab:6379');
  });

  it('reads host, port, password and database from the URL', () => {
    expect(redisOptions('redis://:p%40ss@h:7000/3')).toEqual({ host: 'h', port: 7000, password: 'p@ss', db: 3 });
    expect(() => redisOptions('http://h:6379')).toThrow(/not a redis:\/\/ URL/);
  });
});

describe('$TMP on a worker', () => {
  const cwd = '/srv/aa/work/u-1-a-1';
  it("names the worker's own root where the server rendered its own", () => {
    expect(commandOnWorker(['ls', '/srv/aa/work', '--out=/srv/aa/work/x.txt'], cwd, '/tmp/w')).toEqual(['ls', '/tmp/w', '--out=/tmp/w/x.txt']);
  });

  it('leaves other words alone, including longer names that start with the root', () => {
    expect(commandOnWorker(['cat', 'u-1.input', '/srv/aa/workers/list', '-n', '3'], cwd, '/tmp/w')).toEqual(['cat', 'u-1.input', '/srv/aa/workers/list', '-n', '3']);
  });

  it('has nothing to rewrite when the root is the file system root ($TMP renders empty)', () => {
    expect(commandOnWorker(['ls', '/etc'], '/u-1-a-1', '/tmp/w')).toEqual(['ls', '/etc']);
  });
});

describe('file names on the worker API', () => {
  it('accepts plain names only', () => {
    expect(isPlainFileName('abc.input')).toBe(true);
    for (const bad of ['', '.', '..', '../x', 'a/b', 'a\\b', 'a\0b']) expect(isPlainFileName(bad)).toBe(false);
  });
});

describe('worker tokens and the worker registry', () => {
  const db = openDb(path.join(tempDir(), 'workbench.sqlite'));

  it('shows a token once, stores only its sha256, and accepts it until revoked', () => {
    const { id, token } = createWorkerToken(db, 'lab-pc-2');
    expect(token).toMatch(/^aaw_[A-Za-z0-9_-]{43}$/);
    const stored = db.prepare('SELECT hash FROM worker_token WHERE id = ?').get(id) as { hash: string };
    expect(stored.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(db.prepare('SELECT * FROM worker_token').all())).not.toContain(token);
    expect(verifyWorkerToken(db, token)).toEqual({ id, name: 'lab-pc-2' });
    expect(revokeWorkerToken(db, id)).toBe(1);
    expect(verifyWorkerToken(db, token)).toBeNull();
    expect(revokeWorkerToken(db, id)).toBe(0);
    expect(listWorkerTokens(db).find((t) => t.id === id)?.revoked_at).not.toBeNull();
  });

  it('refuses a token without a name', () => {
    expect(() => createWorkerToken(db, '  ')).toThrow(/needs a name/);
  });

  it('lists workers as online while their heartbeats come, offline when they stop coming, stopped when they say so', () => {
    const beat = { host: 'h', queues: ['localhost'], concurrency: 2, running: 1, completed: 5, failed: 0, version: 'v' };
    recordHeartbeat(db, null, { ...beat, id: 'a' });
    recordHeartbeat(db, null, { ...beat, id: 'b', stopped: true });
    const now = Date.now();
    const states = (at: number) => Object.fromEntries(listWorkers(db, { heartbeatMs: 1000, now: at }).map((w) => [w.id, [w.state, w.running]]));
    expect(states(now)).toEqual({ a: ['online', 1], b: ['stopped', 0] });
    expect(states(now + 5000)).toEqual({ a: ['offline', 1], b: ['stopped', 0] });
  });
});
