import type { RequestContext } from '../request/context';
import { BadUserInputError } from '../errors';
import { isUuid } from '../inputs/ids';
import type { Page } from '../types/connection.type';

export const DEFAULT_PAGE_SIZE = 20;

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface PageRequest {
  /** Rows to return, already capped by the server's MAX_PAGE_SIZE. */
  limit: number;
  /** Keyset position: rows strictly after (createdAt, id). */
  after: { createdAt: Date; id: string } | null;
}

/** Cursors are opaque to clients: base64url of the row's position in (created_at, id) order. */
export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    // Only what encodeCursor writes: anything else would reach PostgreSQL as a type or range error.
    if (typeof at !== 'string' || !ISO_INSTANT.test(at) || typeof id !== 'string' || !isUuid(id)) {
      throw new Error('bad cursor');
    }
    const createdAt = new Date(at);
    if (createdAt.toISOString() !== at) throw new Error('bad cursor');
    return { createdAt, id };
  } catch {
    throw BadUserInputError.field('after', 'after is not a cursor returned by this API');
  }
}

export function pageRequest(
  ctx: RequestContext,
  first: number | null | undefined,
  after: string | null | undefined,
): PageRequest {
  const wanted = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(wanted) || wanted < 0) throw BadUserInputError.field('first', 'first must be 0 or more');
  return { limit: Math.min(wanted, ctx.config.maxPageSize), after: after ? decodeCursor(after) : null };
}

/**
 * A page's position, its end cursor encoded only when asked for: most pages of a dashboard never
 * show theirs. A class, not an object literal with a getter: V8 allocates the pair holding an
 * object's own accessors in the old generation, where it would keep the page's last row (and the
 * request with it) alive until a full collection. On the prototype, there is one pair for all.
 */
class LazyPageInfo {
  private cursor: string | null | undefined;
  constructor(
    readonly hasNextPage: boolean,
    private readonly last: { createdAt: Date; id: string } | undefined,
  ) {}
  get endCursor(): string | null {
    return (this.cursor ??= this.last ? encodeCursor(this.last) : null);
  }
}

/** Builds a page from `limit + 1` rows fetched in order: the extra row only says there is more. */
export function toPage<T extends { createdAt: Date; id: string }>(
  rows: T[],
  limit: number,
  totalCount: number,
): Page<T> {
  const nodes = rows.slice(0, limit);
  return { nodes, totalCount, pageInfo: new LazyPageInfo(rows.length > limit, nodes.at(-1)) };
}
