import type { RequestContext } from '../request/context';

/** Deletions after this can still be undone; the undelete statements hold to it themselves. */
export function graceStart(ctx: RequestContext): Date {
  return new Date(Date.now() - ctx.config.jobs.deletionGraceDays * 24 * 3600 * 1000);
}
