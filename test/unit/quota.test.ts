// A_A quota arithmetic (reference §2.4): only null disables a limit.
import { describe, expect, it } from 'vitest';
import { priorityFor, unfinished } from '../../src-main/core/intake/quota';

describe('priorityFor', () => {
  const both = { hog: 10, hard: 15 };
  it('gives the base priority below the hog size', () => expect(priorityFor(9, 1, both)).toBe(1));
  it('drops to low priority from the hog size', () => expect(priorityFor(10, 1, both)).toBe(0));
  it('refuses at the hard limit', () => expect(priorityFor(15, 1, both)).toBeNull());
  it('refuses a low-priority client over the hog size when a hard limit is set', () => expect(priorityFor(10, 0, both)).toBeNull());
  it('only drops priority without a hard limit', () => expect(priorityFor(100, 1, { hog: 10, hard: null })).toBe(0));
  it('only refuses without a hog size', () => {
    expect(priorityFor(14, 2, { hog: null, hard: 15 })).toBe(2);
    expect(priorityFor(15, 2, { hog: null, hard: 15 })).toBeNull();
  });
  it('treats a limit of 0 as rejecting everyone, as A_A does', () => expect(priorityFor(0, 1, { hog: null, hard: 0 })).toBeNull());
  it('ignores the count when both limits are off', () => expect(priorityFor(1_000_000, 1, { hog: null, hard: null })).toBe(1));
});

describe('unfinished', () => {
  it('counts no further than the largest limit, and not at all without limits', () => {
    const calls: number[] = [];
    const runs = { unfinishedCount: (_ip: string, cap: number) => (calls.push(cap), Math.min(cap, 99)) };
    expect(unfinished({ runs, quotas: () => ({ hog: 10, hard: 15 }) }, '1.2.3.4')).toBe(15);
    expect(unfinished({ runs, quotas: () => ({ hog: null, hard: null }) }, '1.2.3.4')).toBe(0);
    expect(calls).toEqual([15]);
  });
});
