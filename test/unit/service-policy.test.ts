// Service policies: defaults until the analyst sets some, kept per service, and seen by every reader at once.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src-main/core/store/db';
import { ServicePolicies, defaultPolicy } from '../../src-main/core/security/service-policy';
import { tempDir } from '../support/server';

const store = () => openDb(path.join(tempDir('aa-policy-'), 'p.sqlite'));

describe('ServicePolicies', () => {
  it('answers the defaults for a service without a policy and stores only what was set', () => {
    const policies = new ServicePolicies(store());
    expect(policies.get('tmp_count')).toEqual(defaultPolicy('tmp_count'));
    expect(policies.list()).toEqual([]);
    expect(policies.anyPublic()).toBe(false);
    policies.update('tmp_count', { public: true, upload_limit_bytes: 1000 });
    expect(policies.get('tmp_count')).toMatchObject({ public: true, upload_limit_bytes: 1000, max_active: null });
    expect(policies.list().map((p) => p.job_name)).toEqual(['tmp_count']);
    expect(policies.anyPublic()).toBe(true);
  });

  it('shows a change made through one reader to every other reader of the store at once', () => {
    const db = store();
    const guard = new ServicePolicies(db);
    const admin = new ServicePolicies(db);
    expect(guard.get('b').upload_limit_bytes).toBeNull();
    admin.update('b', { upload_limit_bytes: 10 });
    expect(guard.get('b').upload_limit_bytes).toBe(10);
    admin.update('a', { max_active: 3 });
    expect(guard.list().map((p) => p.job_name)).toEqual(['a', 'b']);
    admin.reset('b');
    expect(guard.get('b')).toEqual(defaultPolicy('b'));
    expect(guard.list().map((p) => p.job_name)).toEqual(['a']);
  });

  it('hands out copies: changing one does not change what the next reader sees', () => {
    const policies = new ServicePolicies(store());
    policies.update('a', { deadline_s: 5 });
    const read = policies.get('a');
    read.deadline_s = 99;
    policies.list()[0].deadline_s = 98;
    expect(policies.get('a').deadline_s).toBe(5);
  });
});
