import { Kind, type OperationDefinitionNode } from 'graphql';
import type { Context } from '../../schema/index.js';

/**
 * Serialised answers of read-only queries over committed actor state, shared by both servers.
 * Every committed change of any actor clears the whole cache (`invalidate`), and an answer computed
 * while a change landed is not stored (generation check), so a cached answer never outlives the
 * change that makes it stale. The key holds the caller's whole grant (role, identity, kiosk), so an
 * answer never crosses roles, and only answers without errors are kept.
 */

/** Root fields whose answers depend only on committed actor state (no clock, no audit log, no trace). */
const CACHEABLE_FIELDS = new Set(['compartments', 'compartment', 'devices', 'health']);
const MAX_ENTRIES = 256;

export interface CachedAnswer {
  status: number;
  type: string;
  body: string;
}

export class ResponseCache {
  private readonly entries = new Map<string, CachedAnswer>();
  private generation = 0;
  hits = 0;
  misses = 0;

  /** Forgets everything; called on every committed change. */
  invalidate(): void {
    this.generation++;
    if (this.entries.size) this.entries.clear();
  }

  /** Whether answers to `operation` may be cached: a query of cacheable root fields only. */
  static cacheable(operation: OperationDefinitionNode): boolean {
    if (operation.operation !== 'query') return false;
    let useful = false;
    for (const selection of operation.selectionSet.selections) {
      if (selection.kind !== Kind.FIELD) return false;
      if (selection.name.value === '__typename') continue;
      if (!CACHEABLE_FIELDS.has(selection.name.value)) return false;
      useful = true;
    }
    return useful;
  }

  static key(context: Context, type: string, source: string, operationName: string | undefined, variables: Record<string, unknown> | undefined): string {
    return JSON.stringify([context.role, context.identity, context.kioskId, type, operationName ?? null, variables ?? null, source]);
  }

  get(key: string): CachedAnswer | undefined {
    const hit = this.entries.get(key);
    if (hit) this.hits++;
    else this.misses++;
    return hit;
  }

  /** The generation to hand back to `set`: an answer computed across a change is dropped. */
  get current(): number {
    return this.generation;
  }

  set(key: string, answer: CachedAnswer, generation: number): void {
    if (generation !== this.generation) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, answer);
  }
}
