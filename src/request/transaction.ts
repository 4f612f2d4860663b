import type { EntityManager } from 'typeorm';
import type { WriteTracking } from '../database/recent-writes';
import { runTransaction, type TransactionOptions } from '../database/transaction';
import type { RequestContext } from './context';

/**
 * Runs a request's unit of work in one transaction, everything or nothing; afterwards the
 * request's loaders start afresh, so that what the mutation returns is read fresh.
 */
export async function inTransaction<T>(
  ctx: RequestContext,
  work: (tx: EntityManager) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const writes = ctx.scope.writes;
  if (writes) return tracked(ctx, writes, work, options);
  let committed = false;
  try {
    const result = await runTransaction(ctx.db, work, options);
    committed = true;
    return result;
  } finally {
    ctx.refreshLoaders();
    ctx.settleTransaction(committed);
  }
}

/**
 * A write committed outside inTransaction (the one-statement rename), told to every process as
 * inTransaction tells its commits, so that the caller's next reads see it. Nothing without replicas.
 */
export async function announceWrite(ctx: RequestContext): Promise<void> {
  const writes = ctx.scope.writes;
  if (!writes) return;
  await writes.committed(await writes.inTransaction(ctx.db.manager, writersOf(ctx)));
}

/** Who wrote, for read-your-writes: the caller, or the client's address before there is one (a sign-up). */
export function writersOf(ctx: RequestContext): string[] {
  return ctx.viewer ? [`p:${ctx.viewer.principal.id}`] : [`a:${ctx.clientAddress}`];
}

/** inTransaction with read replicas: the commit also tells every process who wrote (src/database/recent-writes.ts). */
async function tracked<T>(
  ctx: RequestContext,
  writes: WriteTracking,
  work: (tx: EntityManager) => Promise<T>,
  options: TransactionOptions,
): Promise<T> {
  let committed = false;
  let payload = '';
  try {
    const result = await runTransaction(
      ctx.db,
      async (tx) => {
        const done = await work(tx);
        payload = await writes.inTransaction(tx, writersOf(ctx));
        return done;
      },
      options,
    );
    committed = true;
    await writes.committed(payload);
    return result;
  } finally {
    ctx.refreshLoaders();
    ctx.settleTransaction(committed);
  }
}
