import type { EntityManager } from 'typeorm';
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
