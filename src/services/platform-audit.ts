import type { EntityManager } from 'typeorm';
import { AuditActorType, type AuditEventInput } from '../audit/actions';
import type { RequestContext } from '../request/context';
import { recordAudit } from './audit.service';

/**
 * The audit event of a platform admin's change, written in `tx`, the change's transaction (a
 * rolled-back change records nothing). The actor is PLATFORM_ADMIN: the operator, not a member.
 */
export function auditPlatformAction(
  ctx: RequestContext,
  tx: EntityManager,
  event: Omit<AuditEventInput, 'actor'>,
): Promise<void> {
  return recordAudit(ctx, tx, {
    ...event,
    actor: { type: AuditActorType.PLATFORM_ADMIN, id: ctx.viewer?.principal.id ?? null },
  });
}
