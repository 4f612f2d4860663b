import type { EntityManager } from 'typeorm';
import { newOpaqueToken } from '../crypto/opaque-tokens';
import type { OrganizationDecision } from '../auth/access';
import type { Invitation } from '../entities/invitation.entity';
import type { Organization } from '../entities/organization.entity';
import type { OrganizationRole } from '../entities/user-role.entity';
import { AUDIT_ACTIONS, diff, type AuditAction } from '../audit/actions';
import { ForbiddenError, NotFoundError } from '../errors';
import { pageRequest, toPage } from '../graphql/pagination';
import { assertUuid } from '../inputs/ids';
import { invitationMail } from '../mail/messages';
import { roleCan, roleChangeNeeds } from '../permissions';
import { invitationRepository } from '../repositories/membership.repository';
import { userRepository } from '../repositories/user.repository';
import { requireUser, type RequestContext } from '../request/context';
import { inTransaction } from '../request/transaction';
import type { Page } from '../types/connection.type';
import type { InvitationView } from '../types/invitation.type';
import { accountService } from './account.service';
import { recordAudit } from './audit.service';
import { queueMail } from './mail-outbox';
import { lockLiveOrganization } from './organization-lock';

/** An invitation is good for a week (and again for a week when resent). */
export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

/** Whether `role` may send (and so vouch for) an invitation with `invited`: owners alone invite owners. */
export function mayInvite(role: OrganizationRole | null, invited: OrganizationRole): boolean {
  return roleCan(role, roleChangeNeeds(null, invited));
}

/**
 * An invitation is only as good as its inviter: in `tx`, under the organization's lock, revokes the
 * pending invitations `inviterId` sent that their role (`role`, null once they are no member) can
 * no longer send. Called when the inviter is removed, leaves or is demoted.
 */
export async function revokeInvitationsBeyond(
  tx: EntityManager,
  organizationId: string,
  inviterId: string,
  role: OrganizationRole | null,
): Promise<void> {
  const sent = await invitationRepository.pendingBy(tx, organizationId, inviterId);
  const beyond = sent.filter((invitation) => !invitation.role || !mayInvite(role, invitation.role));
  await invitationRepository.deleteIds(
    tx,
    beyond.map((invitation) => invitation.id),
  );
}

/** In `tx`: the invitation mail with `token`, sent by `inviterId`, to the outbox. */
export async function queueInvitationMail(
  ctx: RequestContext,
  tx: EntityManager,
  organization: Organization,
  invitation: Pick<Invitation, 'email' | 'role'>,
  token: string,
): Promise<void> {
  const inviterEmail = (await userRepository.emailOf(tx, requireUser(ctx))) ?? 'A member';
  const work = accountService.mailWork(ctx);
  const message = invitationMail(work.mail, invitation.email, token, {
    organizationName: organization.name,
    inviterEmail,
    role: (invitation.role ?? 'member').toUpperCase(),
    ttlDays: INVITATION_TTL_MS / (24 * 3600 * 1000),
  });
  await queueMail(tx, work.jobs, work.mail, message, work.requestId);
}

export async function invitationView(ctx: RequestContext, invitation: Invitation): Promise<InvitationView> {
  const invitedBy = invitation.invitedById ? await ctx.loaders.userById.load(invitation.invitedById) : null;
  return {
    id: invitation.id,
    email: invitation.email,
    role: invitation.role as OrganizationRole,
    expiresAt: invitation.expiresAt,
    createdAt: invitation.createdAt,
    invitedBy,
  };
}

export class InvitationService {
  async list(
    ctx: RequestContext,
    organization: Organization,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<InvitationView>> {
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await invitationRepository.pendingPage(ctx.db, organization.id, window);
    const views = await Promise.all(rows.map((row) => invitationView(ctx, row)));
    return toPage(views, window.limit, totalCount);
  }

  /** Withdraws a pending invitation: its link stops working. Owners alone withdraw an owner's invitation. */
  async revoke(ctx: RequestContext, access: OrganizationDecision, id: string): Promise<boolean> {
    const { organization } = await access.get();
    await this.underLock(ctx, access, id, async (tx, invitation) => {
      await invitationRepository.deleteIds(tx, [invitation.id]);
      await recordAudit(ctx, tx, {
        ...invitationEvent(AUDIT_ACTIONS.revokeInvitation, organization.id, invitation),
        changes: diff({ email: invitation.email, role: invitation.role }, null),
      });
    });
    return true;
  }

  /** A fresh token by mail, valid for another week; the old link stops working, and the sender vouches for it now. */
  async resend(ctx: RequestContext, access: OrganizationDecision, id: string): Promise<InvitationView> {
    const { organization } = await access.get();
    const renewed = await this.underLock(ctx, access, id, async (tx, invitation) => {
      const { token, hash } = newOpaqueToken();
      const values = {
        tokenHash: hash,
        expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
        invitedById: requireUser(ctx),
      };
      await invitationRepository.renew(tx, invitation.id, values);
      await queueInvitationMail(ctx, tx, organization, invitation, token);
      await recordAudit(ctx, tx, {
        ...invitationEvent(AUDIT_ACTIONS.resendInvitation, organization.id, invitation),
        // The token changed: shown redacted on both sides.
        changes: diff(
          { token: 'old', expiresAt: invitation.expiresAt, invitedById: invitation.invitedById },
          { token: 'new', expiresAt: values.expiresAt, invitedById: values.invitedById },
          ['token'],
        ),
      });
      return Object.assign(invitation, values);
    });
    return invitationView(ctx, renewed);
  }

  private async underLock<T>(
    ctx: RequestContext,
    access: OrganizationDecision,
    id: string,
    work: (tx: EntityManager, invitation: Invitation) => Promise<T>,
  ): Promise<T> {
    assertUuid('id', id);
    const { organization } = await access.get();
    const userId = requireUser(ctx);
    return inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, organization.id, () => new NotFoundError('Invitation'));
      const mine = await invitationRepository.callerRole(tx, organization.id, userId);
      const invitation = await invitationRepository.pendingIn(tx, organization.id, id);
      if (!invitation || !invitation.role) throw new NotFoundError('Invitation');
      if (!mayInvite(mine, invitation.role)) throw new ForbiddenError('Only an owner can manage an owner invitation');
      return work(tx, invitation);
    });
  }
}

function invitationEvent(action: AuditAction, organizationId: string, invitation: Invitation) {
  return { action, organizationId, target: { type: 'invitation', id: invitation.id, label: invitation.email } };
}

export const invitationService = new InvitationService();
