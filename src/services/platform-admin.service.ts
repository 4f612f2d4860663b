import { AUDIT_ACTIONS, diff } from '../audit/actions';
import { newOpaqueToken } from '../crypto/opaque-tokens';
import type { EntityManager } from 'typeorm';
import type { PlatformDecision } from '../auth/access';
import { SuspensionKind, type Organization } from '../entities/organization.entity';
import { BadUserInputError, ConflictError, NotFoundError } from '../errors';
import { assertUuid } from '../inputs/ids';
import { invitationRepository } from '../repositories/membership.repository';
import { lockOrganization } from '../repositories/organization.repository';
import { platformRepository } from '../repositories/platform.repository';
import { sessionRepository } from '../repositories/session.repository';
import { userRepository } from '../repositories/user.repository';
import type { RequestContext } from '../request/context';
import { JOB } from '../request/jobs';
import { inTransaction } from '../request/transaction';
import type { InvoiceView } from '../types/billing.types';
import {
  PlatformOrganization,
  type PlatformInvitationPayload,
  type SetOrganizationPlanInput,
} from '../types/platform.types';
import { giveComplimentaryPlan } from './billing-complimentary.service';
import { normalizeEmail } from './auth.service';
import { requireBilling } from './billing-switch';
import { suspendOrganization } from './billing-collection.service';
import { invoiceService } from './billing-invoice.service';
import { INVITATION_TTL_MS } from './membership.service';
import { auditPlatformAction } from './platform-audit';
import { accessKeyRepository } from '../repositories/access-key.repository';

const REASON_LENGTH = 200;

function reasonOf(reason: string): string {
  const text = reason.trim();
  if (!text) throw BadUserInputError.field('reason', "reason must not be blank: the organization's members read it");
  if (text.length > REASON_LENGTH) {
    throw BadUserInputError.field('reason', `reason must be at most ${REASON_LENGTH} characters long`);
  }
  return text;
}

/**
 * A sign-up invitation that joins no organization, replacing a pending one for the address; the
 * token is returned this once. By invitePlatformUser, and by `npm run platform:admin -- invite`
 * (how the first account of an installation that is not open signs up).
 */
export async function createPlatformInvitation(
  tx: EntityManager,
  email: string,
  invitedById: string | null,
): Promise<PlatformInvitationPayload> {
  if (await userRepository.byEmail(tx, email)) throw new ConflictError('An account with this e-mail exists', 'email');
  const { token, hash } = newOpaqueToken();
  const invitation = await invitationRepository.replacePendingPlatform(tx, {
    email,
    tokenHash: hash,
    expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
    invitedById,
  });
  return { invitation: { id: invitation.id, email: invitation.email, expiresAt: invitation.expiresAt }, token };
}

/** What only platform admins do. Each change is one transaction and calls the audit hook inside it. */
export class PlatformAdminService {
  /**
   * Suspends the organization with the operator's reason (again: a new reason, and one no payment
   * lifts) and pauses its running projects through the job queue. Deleted ones too.
   */
  async suspend(ctx: RequestContext, access: PlatformDecision, slug: string, reason: string): Promise<Organization> {
    await access.get();
    const text = reasonOf(reason);
    const organization = await inTransaction(ctx, async (tx) => {
      const id = await platformRepository.lockBySlug(tx, slug);
      if (!id) throw new NotFoundError('Organization', slug);
      const suspension = { reason: text, kind: SuspensionKind.ADMIN, requestId: ctx.scope.requestId };
      const suspended = await suspendOrganization(tx, ctx.jobs, id, suspension);
      if (!suspended) throw new NotFoundError('Organization', slug);
      await auditPlatformAction(ctx, tx, {
        action: AUDIT_ACTIONS.suspendOrganization,
        organizationId: id,
        target: { type: 'organization', id, label: slug },
        changes: diff({ suspensionReason: null }, { suspensionReason: text }),
      });
      return suspended;
    });
    ctx.jobs.nudge(JOB.projectStep);
    return organization;
  }

  /** Lifts any suspension; its paused projects stay paused (their owners restore them). Unsuspended already: as it is. */
  async unsuspend(ctx: RequestContext, access: PlatformDecision, slug: string): Promise<Organization> {
    await access.get();
    return inTransaction(ctx, async (tx) => {
      const id = await platformRepository.lockBySlug(tx, slug);
      if (!id) throw new NotFoundError('Organization', slug);
      const lifted = await platformRepository.unsuspend(tx, id);
      if (lifted) {
        await auditPlatformAction(ctx, tx, {
          action: AUDIT_ACTIONS.unsuspendOrganization,
          organizationId: id,
          target: { type: 'organization', id, label: slug },
        });
      }
      const organization = lifted ?? (await platformRepository.byId(tx, id));
      if (!organization) throw new NotFoundError('Organization', slug);
      return organization;
    });
  }

  /** A complimentary plan until `until`, without a payment method (see giveComplimentaryPlan). */
  async setPlan(
    ctx: RequestContext,
    access: PlatformDecision,
    input: SetOrganizationPlanInput,
  ): Promise<PlatformOrganization> {
    await access.get();
    requireBilling(ctx);
    await inTransaction(ctx, async (tx) => {
      const id = await platformRepository.lockBySlug(tx, input.slug);
      if (!id) throw new NotFoundError('Organization', input.slug);
      await giveComplimentaryPlan(tx, id, input.plan, input.until);
      await auditPlatformAction(ctx, tx, {
        action: AUDIT_ACTIONS.setOrganizationPlan,
        organizationId: id,
        target: { type: 'organization', id, label: input.slug },
        changes: diff(null, { plan: input.plan, until: input.until }),
      });
    });
    const row = await platformRepository.organizationBySlug(ctx.db, input.slug);
    if (!row) throw new NotFoundError('Organization', input.slug);
    return PlatformOrganization.from(row.organization, row);
  }

  /** A sign-up invitation that joins no organization; it replaces a pending one for the same address. */
  async invite(ctx: RequestContext, access: PlatformDecision, address: string): Promise<PlatformInvitationPayload> {
    await access.get();
    const email = normalizeEmail(address);
    return inTransaction(ctx, async (tx) => {
      const created = await createPlatformInvitation(tx, email, ctx.viewer?.principal.id ?? null);
      await auditPlatformAction(ctx, tx, {
        action: AUDIT_ACTIONS.invitePlatformUser,
        organizationId: null,
        target: { type: 'invitation', id: created.invitation.id, label: email },
        changes: diff(null, { email, token: 1 }, ['token']),
      });
      return created;
    });
  }

  /**
   * Deletes an account with its memberships and grants. Refused (CONFLICT) while it is the last
   * owner of an organization that is not deleted, and for the caller's own account.
   */
  async deleteUser(ctx: RequestContext, access: PlatformDecision, id: string): Promise<boolean> {
    await access.get();
    assertUuid('id', id);
    if (id === ctx.viewer?.principal.id) throw new ConflictError('You cannot delete your own account', 'id');
    const told = await inTransaction(ctx, async (tx) => {
      // The locks of the organizations it owns, first and in one order: no owner leaves meanwhile.
      for (const organizationId of await platformRepository.ownedOrganizations(tx, id)) {
        await lockOrganization(tx, organizationId, { deleted: true });
      }
      const lastOwned = await platformRepository.lastOwnerships(tx, id);
      if (lastOwned.length) {
        throw new ConflictError(
          `This user is the last owner of ${lastOwned.join(', ')}: make someone else owner, or delete the organization, first`,
          'id',
        );
      }
      // Recorded first: the label is read from the account while it exists.
      await auditPlatformAction(ctx, tx, {
        action: AUDIT_ACTIONS.deleteUser,
        organizationId: null,
        target: { type: 'user', id },
      });
      if (!(await userRepository.delete(tx, id))) throw new NotFoundError('User');
      // Its personal access tokens and sessions stop working on the next request, on every replica.
      await sessionRepository.invalidate(tx, `user:${id}`);
      return accessKeyRepository.invalidate(tx, `principal:${id}`);
    });
    await Promise.all([ctx.accessKeys.forget(told), ctx.sessions.forget(`user:${id}`)]);
    return true;
  }

  markInvoicePaid(
    ctx: RequestContext,
    access: PlatformDecision,
    slug: string,
    invoiceId: string,
  ): Promise<InvoiceView> {
    return this.settle(ctx, access, slug, (organizationId) => invoiceService.markPaid(ctx, organizationId, invoiceId));
  }

  voidInvoice(ctx: RequestContext, access: PlatformDecision, slug: string, invoiceId: string): Promise<InvoiceView> {
    return this.settle(ctx, access, slug, (organizationId) => invoiceService.markVoid(ctx, organizationId, invoiceId));
  }

  private async settle(
    ctx: RequestContext,
    access: PlatformDecision,
    slug: string,
    settle: (organizationId: string) => Promise<InvoiceView>,
  ): Promise<InvoiceView> {
    await access.get();
    requireBilling(ctx);
    const row = await platformRepository.organizationBySlug(ctx.db, slug);
    if (!row) throw new NotFoundError('Organization', slug);
    return settle(row.organization.id);
  }
}

export const platformAdminService = new PlatformAdminService();
