// Caches configuration lookups on the hot path; one read of the configuration stamp invalidates them.
import type { Db } from './db';

export class ConfigCache {
  private readonly stamp;
  private seen = -1;
  private readonly entries = new Map<string, unknown>();

  constructor(db: Db) {
    this.stamp = db.prepare('SELECT n FROM config_stamp WHERE id = 1').pluck();
  }

  /** The cached value of `key`, loaded again whenever any configuration changed. Callers must not mutate it. */
  get<T>(key: string, load: () => T): T {
    const n = this.stamp.get() as number;
    if (n !== this.seen) {
      this.entries.clear();
      this.seen = n;
    }
    if (!this.entries.has(key)) this.entries.set(key, load());
    return this.entries.get(key) as T;
  }
}
