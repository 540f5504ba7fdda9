// Owns A_A's "typical run time" of a job: the mode of a Gaussian KDE over completed run durations.

const GRID_POINTS = 200;

/**
 * Typical duration in whole seconds for A_A's `/jobtimes/`: one sample is itself; two or more
 * give the x of highest density of scipy's `gaussian_kde` (Scott's factor n^(-1/5), kernel
 * variance = sample variance (ddof=1) × factor²) on 200 evenly spaced points from 0 to the
 * maximum inclusive, floored. Null where scipy fails: no samples, or zero variance (a
 * singular covariance), which happens whenever every run took the same time.
 */
export function typicalSeconds(samples: number[]): number | null {
  const n = samples.length;
  if (n === 0) return null;
  if (n === 1) return Math.floor(samples[0]);

  const mean = samples.reduce((sum, x) => sum + x, 0) / n;
  const variance = samples.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (n - 1);
  const kernelVariance = variance * n ** (-2 / 5);
  if (!(kernelVariance > 0) || !Number.isFinite(kernelVariance)) return null;

  // numpy.linspace: start + k * step, with the last point pinned to the stop value.
  const max = Math.max(...samples);
  const step = max / (GRID_POINTS - 1);
  let bestX = 0;
  let bestDensity = -Infinity;
  for (let k = 0; k < GRID_POINTS; k++) {
    const x = k === GRID_POINTS - 1 ? max : k * step;
    // The kernels share one normalising constant, so it cannot move the argmax.
    let density = 0;
    for (const s of samples) density += Math.exp(-((x - s) ** 2) / (2 * kernelVariance));
    // Strictly greater keeps the first maximum, as numpy.argmax does.
    if (density > bestDensity) {
      bestDensity = density;
      bestX = x;
    }
  }
  return Math.floor(bestX);
}
