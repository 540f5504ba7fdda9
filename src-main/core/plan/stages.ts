// Job graph rules: edges → layers (A_A ordering), A_A ordering → edges, and A_A's step counters.

export interface GraphStep {
  key: string;
  after: string[];
}

export class GraphError extends Error {
  constructor(
    message: string,
    /** Keys of the steps involved (for the designer to highlight). */
    readonly keys: string[] = [],
  ) {
    super(message);
  }
}

/**
 * The layer of each step: 0 for steps with no upstream, else 1 + the deepest upstream layer.
 * Steps in one layer may run in parallel. Throws GraphError on unknown keys and cycles.
 */
export function layersOf(steps: GraphStep[]): Map<string, number> {
  const byKey = new Map(steps.map((s) => [s.key, s]));
  if (byKey.size !== steps.length) {
    const seen = new Set<string>();
    const dup = steps.find((s) => (seen.has(s.key) ? true : (seen.add(s.key), false)));
    throw new GraphError(`duplicate step key "${dup?.key}"`, dup ? [dup.key] : []);
  }
  for (const s of steps) {
    for (const a of s.after) {
      if (!byKey.has(a)) throw new GraphError(`step "${s.key}" waits for unknown step "${a}"`, [s.key]);
      if (a === s.key) throw new GraphError(`step "${s.key}" waits for itself`, [s.key]);
    }
  }
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (key: string, trail: string[]): number => {
    const known = layer.get(key);
    if (known !== undefined) return known;
    if (visiting.has(key)) {
      const cycle = trail.slice(trail.indexOf(key));
      throw new GraphError(`cycle between steps ${cycle.map((k) => `"${k}"`).join(' → ')}`, cycle);
    }
    visiting.add(key);
    const step = byKey.get(key) as GraphStep;
    let l = 0;
    for (const a of step.after) l = Math.max(l, visit(a, [...trail, key]) + 1);
    visiting.delete(key);
    layer.set(key, l);
    return l;
  };
  for (const s of steps) visit(s.key, []);
  return layer;
}

/** A_A semantics: a step waits for every step of the nearest lower ordering. */
export function afterFromOrdering<T extends { key: string; ordering: number }>(steps: T[]): Map<string, string[]> {
  const orders = [...new Set(steps.map((s) => s.ordering))].sort((a, b) => a - b);
  const result = new Map<string, string[]>();
  for (const s of steps) {
    const idx = orders.indexOf(s.ordering);
    const prev = idx > 0 ? orders[idx - 1] : undefined;
    result.set(s.key, prev === undefined ? [] : steps.filter((o) => o.ordering === prev).map((o) => o.key));
  }
  return result;
}

export interface StepCounters {
  /** 1-based group index; parallel steps share it. */
  current_step: number;
  /** 1-based running index. */
  step_counter: number;
}

/**
 * A_A's counters for steps sorted by ordering (stable), and total_steps including the chord_end
 * step that A_A appends when the last two steps share an ordering.
 */
export function aaCounters(orderings: number[]): { counters: StepCounters[]; total_steps: number; chord_end: boolean } {
  let current = 0;
  let prev: number | undefined;
  const counters = orderings.map((o, i) => {
    if (o !== prev) current += 1;
    prev = o;
    return { current_step: current, step_counter: i + 1 };
  });
  const n = orderings.length;
  const chord_end = n > 1 && orderings[n - 1] === orderings[n - 2];
  return { counters, total_steps: chord_end ? n + 1 : n, chord_end };
}

/** Every step reachable upstream of `key` (its ancestors). */
export function ancestorsOf(steps: GraphStep[], key: string): Set<string> {
  const byKey = new Map(steps.map((s) => [s.key, s]));
  const out = new Set<string>();
  const stack = [...(byKey.get(key)?.after ?? [])];
  while (stack.length) {
    const k = stack.pop() as string;
    if (out.has(k)) continue;
    out.add(k);
    stack.push(...(byKey.get(k)?.after ?? []));
  }
  return out;
}
