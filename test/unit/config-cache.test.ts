// ConfigCache: lookups are served from memory until any configuration table changes, from any connection.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src-main/core/store/db';
import { ConfigCache } from '../../src-main/core/store/config-cache';
import { saveBackend, getBackend } from '../../src-main/core/store/config-repo';
import { tempDir } from '../support/server';

describe('ConfigCache', () => {
  it('reloads after a change made through this or another connection', () => {
    const file = path.join(tempDir(), 'c.sqlite');
    const db = openDb(file);
    const cache = new ConfigCache(db);
    let loads = 0;
    const root = () => cache.get('backend:local', () => (loads++, getBackend(db, 'local')?.root_path));
    expect(root()).toBe('');
    expect(root()).toBe('');
    expect(loads).toBe(1);
    saveBackend(db, { name: 'local', queue_type: 'localhost', root_path: '/srv/a' });
    expect(root()).toBe('/srv/a');
    const other = openDb(file);
    other.prepare("UPDATE backend SET root_path = '/srv/b' WHERE name = 'local'").run();
    expect(root()).toBe('/srv/b');
    expect(loads).toBe(3);
  });
});
