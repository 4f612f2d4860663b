import type { EntityManager } from 'typeorm';
import type { RequestContext } from '../request/context';

/**
 * The hook every platform-admin mutation calls, inside its transaction, once its change is made.
 * Until the audit log lands it writes a log line (`audit: true`, with the actor and the request
 * id); the audit log replaces the body with a row written in `tx`, so a rolled-back change
 * records nothing.
 */
export function auditPlatformAction(
  ctx: RequestContext,
  _tx: EntityManager,
  action: string,
  subject: Record<string, string | null>,
): Promise<void> {
  ctx.afterCommit(() =>
    ctx.scope.log.info({ audit: true, actorId: ctx.viewer?.principal.id, action, ...subject }, 'platform action'),
  );
  return Promise.resolve();
}
