// Request quotas per API key and per client address: token buckets refilled continuously, in memory.

export interface Bucket {
  tokens: number;
  /** ms timestamp of the last refill. */
  at: number;
}

export interface Take {
  ok: boolean;
  bucket: Bucket;
  /** Whole seconds until one request is allowed again (0 when allowed now). */
  retryAfterS: number;
}

/**
 * One request against a bucket of `perMinute` tokens that refills at `perMinute` per minute:
 * a client may burst up to a minute's worth, then runs at the steady rate.
 */
export function takeToken(bucket: Bucket | undefined, now: number, perMinute: number): Take {
  const perMs = perMinute / 60_000;
  const start = bucket ?? { tokens: perMinute, at: now };
  const tokens = Math.min(perMinute, start.tokens + Math.max(0, now - start.at) * perMs);
  if (tokens >= 1) return { ok: true, bucket: { tokens: tokens - 1, at: now }, retryAfterS: 0 };
  return { ok: false, bucket: { tokens, at: now }, retryAfterS: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
}

/** Buckets by name ("key:12", "client:10.0.0.5"); full buckets are forgotten so memory stays bounded. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxBuckets = 10_000,
  ) {}

  take(name: string, perMinute: number): Take {
    const t = takeToken(this.buckets.get(name), this.now(), perMinute);
    this.buckets.set(name, t.bucket);
    if (this.buckets.size > this.maxBuckets) this.prune(perMinute);
    return t;
  }

  private prune(perMinute: number): void {
    const now = this.now();
    for (const [name, b] of this.buckets) {
      // A bucket idle for a minute is full again: forgetting it changes nothing.
      if (now - b.at >= 60_000 || b.tokens >= perMinute) this.buckets.delete(name);
    }
  }
}
