import { GraphQLError } from 'graphql';

/** One page of a Relay-style connection. */
export interface Page<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

export const MAX_PAGE = 100;

/** An opaque cursor: base64url of `kind:key`. */
export const encodeCursor = (kind: string, key: string): string => Buffer.from(`${kind}:${key}`, 'utf8').toString('base64url');

/** Reads a cursor made by `encodeCursor` for `kind`; anything else is a client error. */
export function decodeCursor(kind: string, cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(`${kind}:`)) throw new GraphQLError('The cursor is not valid here', { extensions: { code: 'BAD_USER_INPUT' } });
  return text.slice(kind.length + 1);
}

/** Checks `first` (1…MAX_PAGE, default 20). */
export function pageSize(first: number | null | undefined): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) {
    throw new GraphQLError(`first must be between 1 and ${MAX_PAGE}`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return n;
}

/**
 * Pages a list sorted by a string key that is unique and increasing (callers build it so); `after`
 * is the key of the last item seen, so a page stays correct when items are added or removed.
 */
export function pageByKey<T>(kind: string, sorted: T[], key: (item: T) => string, first: number | null | undefined, after: string | null | undefined): Page<T> {
  const size = pageSize(first);
  const afterKey = after ? decodeCursor(kind, after) : null;
  const start = afterKey === null ? 0 : sorted.findIndex((item) => key(item) > afterKey);
  const rest = start < 0 ? [] : sorted.slice(start);
  const items = rest.slice(0, size);
  const edges = items.map((node) => ({ cursor: encodeCursor(kind, key(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rest.length > size,
      hasPreviousPage: start > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: sorted.length,
  };
}

/** A fixed-width, sortable key part for non-negative integers (timestamps, sequence numbers). */
export const sortable = (n: number): string => String(n).padStart(16, '0');
