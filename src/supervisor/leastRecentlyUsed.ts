/** Something that can be handed work: when it last was (undefined: never), and a stable tie-break. */
export interface Assignable {
  readonly lastAssignedAt: number | undefined;
  readonly index: number;
}

/**
 * The items ordered least recently used first: never-assigned items before any
 * assigned one, then by the time of their last assignment, ties by index. The
 * dispatcher offers work in this order, so idle replicas of a role take turns
 * instead of the first one taking everything. Returns a new array.
 */
export function leastRecentlyUsed<T extends Assignable>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.lastAssignedAt ?? -Infinity) - (b.lastAssignedAt ?? -Infinity) || a.index - b.index);
}
