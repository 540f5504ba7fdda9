import { describe, expect, it } from 'vitest';
import { typicalSeconds } from '../../src-main/core/plan/jobtimes';

describe('typicalSeconds (A_A /jobtimes/)', () => {
  it('gives the A_A test values: [1800, 300] → 1049 and [2700] → 2700', () => {
    expect(typicalSeconds([1800, 300])).toBe(1049);
    expect(typicalSeconds([2700])).toBe(2700);
  });

  it('gives the KDE mode of three samples as scipy does: [1800, 300, 600] → 551', () => {
    expect(typicalSeconds([1800, 300, 600])).toBe(551);
  });

  it('floors a single fractional sample', () => {
    expect(typicalSeconds([12.9])).toBe(12);
  });

  it('is null when every sample is the same (singular covariance in scipy)', () => {
    expect(typicalSeconds([5, 5, 5])).toBeNull();
    expect(typicalSeconds([60, 60])).toBeNull();
  });

  it('is null without samples', () => {
    expect(typicalSeconds([])).toBeNull();
  });

  it('matches scipy gaussian_kde on larger samples', () => {
    // Reference values computed with scipy 1.17 / numpy 2.4.
    expect(typicalSeconds([3600, 61, 60, 61, 3601, 3601, 3600])).toBe(3528);
    expect(typicalSeconds([1, 27, 100, 28, 22, 22])).toBe(21);
    expect(typicalSeconds([54897, 47997])).toBe(51310);
    expect(typicalSeconds([61, 60, 60, 3601, 3601, 3600, 60, 61, 3601, 120, 120])).toBe(90);
    expect(typicalSeconds([65, 83, 87, 46, 45, 36, 83, 45, 95, 53, 45, 23, 89, 58, 47, 43])).toBe(46);
  });

  it('does not depend on sample order', () => {
    expect(typicalSeconds([300, 600, 1800])).toBe(typicalSeconds([1800, 300, 600]));
  });
});
