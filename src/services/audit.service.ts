import type { EntityManager } from 'typeorm';
import { AuditActorType, type AuditAction, type AuditActor, type AuditEventInput } from '../audit/actions';
import { runTransaction } from '../database/transaction';
import { JOB } from '../request/jobs';
import { pageRequest, toPage } from '../graphql/pagination';
import { PrincipalKind } from '../permissions';
import { auditRepository, type AuditFilter, type AuditRecord, type AuditScope } from '../repositories/audit.repository';
import { requireUser, type RequestContext } from '../request/context';
import type { OrganizationDecision, PlatformDecision } from '../auth/access';
import type { User } from '../entities/user.entity';
import { ForbiddenError } from '../errors';
import { AuditEventView } from '../types/audit.types';
import type { Page } from '../types/connection.type';

/** The request's caller as an actor: a user, or a service account. */
export function callerActor(ctx: RequestContext): AuditActor {
  const principal = ctx.viewer?.principal;
  if (!principal) return { type: AuditActorType.SYSTEM, id: null };
  const type = principal.kind === PrincipalKind.SERVICE_ACCOUNT ? AuditActorType.SERVICE_ACCOUNT : AuditActorType.USER;
  return { type, id: principal.id };
}

/**
 * An event of a user's own account, acted by that user (or by `actor`: the system, for a reused
 * refresh token). Labels left out are the user's e-mail at the time, read by the insert itself.
 */
export function userAccountEvent(
  action: AuditAction,
  user: { id: string; email?: string | null },
  actor: AuditActor = { type: AuditActorType.USER, id: user.id, label: user.email },
): AuditEventInput {
  return {
    action,
    organizationId: null,
    accountId: user.id,
    actor,
    target: { type: 'user', id: user.id, label: user.email },
  };
}

/** An event as written for a request: its caller (unless the event names its actor), request id, address and User-Agent. */
export function auditRecordOf(ctx: RequestContext | null, event: AuditEventInput): AuditRecord {
  const actor = event.actor ?? (ctx ? callerActor(ctx) : { type: AuditActorType.SYSTEM, id: null });
  return {
    organizationId: event.organizationId,
    accountId: event.accountId ?? null,
    actorType: actor.type,
    actorId: actor.id,
    actorLabel: actor.label ?? (actor.type === AuditActorType.SYSTEM ? 'system' : null),
    action: event.action,
    targetType: event.target.type,
    targetId: event.target.id,
    targetLabel: event.target.label ?? null,
    projectRef: event.projectRef ?? null,
    changes: event.changes ?? [],
    requestId: ctx?.scope.requestId ?? null,
    ipAddress: ctx?.clientAddress ?? null,
    userAgent: ctx?.userAgent ?? null,
  };
}

/**
 * Records the audit event of a change, in `tx`, the transaction that makes the change: the event
 * exists once, and only if, the change commits. Every changing mutation calls it exactly once.
 */
export async function recordAudit(ctx: RequestContext, tx: EntityManager, event: AuditEventInput): Promise<void> {
  await enqueueDeliveries(ctx, tx, await auditRepository.insert(tx, auditRecordOf(ctx, event)));
}

/** A job per webhook delivery, in `tx`: sent once, and only if, the event commits. */
export async function enqueueDeliveries(ctx: RequestContext, tx: EntityManager, deliveryIds: string[]): Promise<void> {
  for (const deliveryId of deliveryIds) {
    const data = { deliveryId, requestId: ctx.scope.requestId };
    await ctx.jobs.enqueue(tx, JOB.webhookDelivery, data, { singletonKey: deliveryId });
  }
  if (deliveryIds.length) ctx.afterCommit(() => ctx.jobs.nudge(JOB.webhookDelivery));
}

/**
 * An event of the system's own work (jobs): actor SYSTEM, no request. Its webhook deliveries are
 * written with it; the scheduled sweep gives them their jobs.
 */
export async function recordSystemAudit(tx: EntityManager, event: Omit<AuditEventInput, 'actor'>): Promise<void> {
  await auditRepository.insert(tx, auditRecordOf(null, { ...event, actor: { type: AuditActorType.SYSTEM, id: null } }));
}

/** An event that must outlive the request's failure (a refused log-in): written in a transaction of its own. */
export async function recordAuditApart(ctx: RequestContext, event: AuditEventInput): Promise<void> {
  await runTransaction(ctx.db, (tx) => auditRepository.insert(tx, auditRecordOf(ctx, event)));
}

export class AuditService {
  async organizationEvents(
    ctx: RequestContext,
    access: OrganizationDecision,
    filter: AuditFilter | null,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<AuditEventView>> {
    const { organization } = await access.get();
    return this.page(ctx, { organizationId: organization.id }, filter, first, after);
  }

  /** A user's own account events, for that user alone. */
  async accountEvents(
    ctx: RequestContext,
    user: User,
    filter: AuditFilter | null,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<AuditEventView>> {
    if (requireUser(ctx) !== user.id) throw new ForbiddenError('Only the user sees their account events');
    return this.page(ctx, { accountId: user.id }, filter, first, after);
  }

  async platformEvents(
    ctx: RequestContext,
    access: PlatformDecision,
    filter: AuditFilter | null,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<AuditEventView>> {
    await access.get();
    return this.page(ctx, { platform: true }, filter, first, after);
  }

  private async page(
    ctx: RequestContext,
    scope: AuditScope,
    filter: AuditFilter | null,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<AuditEventView>> {
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await auditRepository.page(ctx.db, scope, filter ?? {}, window);
    return toPage(
      rows.map((row) => AuditEventView.from(row)),
      window.limit,
      totalCount,
    );
  }
}

export const auditService = new AuditService();
