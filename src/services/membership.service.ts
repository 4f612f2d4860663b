import { AUDIT_ACTIONS, diff, type AuditAction } from '../audit/actions';
import { recordAudit } from './audit.service';
import { newOpaqueToken } from '../crypto/opaque-tokens';
import type { EntityManager } from 'typeorm';
import type { OrganizationDecision } from '../auth/access';
import type { Organization } from '../entities/organization.entity';
import { OrganizationRole, type UserRole } from '../entities/user-role.entity';
import type { User } from '../entities/user.entity';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors';
import { pageRequest, toPage } from '../graphql/pagination';
import { assertUuid } from '../inputs/ids';
import type { InviteMemberInput, UpdateMemberRoleInput } from '../inputs/organization.inputs';
import { AccessLevel } from '../entities/project-grant.entity';
import {
  MAX_GRANTABLE_ACCESS,
  Permission,
  PrincipalKind,
  roleCan,
  roleChangeNeeds,
  type Principal,
} from '../permissions';
import { invitationRepository, membershipRepository } from '../repositories/membership.repository';
import { projectGrantRepository } from '../repositories/project-grant.repository';
import { userRepository } from '../repositories/user.repository';
import { requireUser, type RequestContext } from '../request/context';
import { inTransaction } from '../request/transaction';
import { authThrottle } from '../security/auth-throttle';
import { lockLiveOrganization, type LockOptions } from './organization-lock';
import type { Page } from '../types/connection.type';
import type { InvitationPayload } from '../types/invitation.type';
import { normalizeEmail } from './auth.service';
import { acceptPendingInvitation } from './invitation-acceptance';
import { assertVerifiedEmail } from './account.service';
import { INVITATION_TTL_MS, invitationView, queueInvitationMail, revokeInvitationsBeyond } from './invitation.service';

export { INVITATION_TTL_MS };

const LAST_OWNER = 'An organization must keep at least one owner: make someone else owner first';

/** Takes the organization's lock, first: NOT_FOUND when it is gone or deleted. */
function locked(tx: EntityManager, organization: Organization, options: LockOptions = {}): Promise<void> {
  const gone = () => new NotFoundError('Organization', organization.slug);
  return lockLiveOrganization(tx, organization.id, gone, options);
}

/**
 * The caller's role read again under the organization lock: a racing request may have changed
 * it since the access decision, and a demoted owner must not act as one.
 */
export async function lockedCallerRole(
  ctx: RequestContext,
  tx: EntityManager,
  organization: Organization,
): Promise<OrganizationRole> {
  const userId = requireUser(ctx);
  const mine = await membershipRepository.find(tx, organization.id, userId);
  if (!mine) throw new NotFoundError('Organization', organization.slug);
  if (!roleCan(mine.role, Permission.MembersManage)) throw new ForbiddenError();
  return mine.role;
}

/** A member whose role may hold less than their grants give keeps only what it may. */
export async function capGrants(tx: EntityManager, organizationId: string, grantee: Principal, role: OrganizationRole) {
  if (MAX_GRANTABLE_ACCESS[role] === AccessLevel.READ)
    await projectGrantRepository.lowerToRead(tx, organizationId, grantee);
}

export class MembershipService {
  async members(
    ctx: RequestContext,
    organization: Organization,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<UserRole>> {
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await ctx.loaders.memberPages.load({ ownerId: organization.id, window });
    for (const { user } of rows) ctx.loaders.userById.prime(user.id, user);
    return toPage(
      rows.map((row) => row.membership),
      window.limit,
      totalCount,
    );
  }

  async user(ctx: RequestContext, of: { userId: string }): Promise<User> {
    const user = await ctx.loaders.userById.load(of.userId);
    if (!user) throw new NotFoundError('User');
    return user;
  }

  /** Returns the token once; only its hash is stored. A new invitation replaces a pending one. */
  async invite(
    ctx: RequestContext,
    access: OrganizationDecision,
    input: InviteMemberInput,
  ): Promise<InvitationPayload> {
    const userId = requireUser(ctx);
    const { organization, role, authentication } = await access.get();
    if (!roleCan(role, roleChangeNeeds(null, input.role), authentication))
      throw new ForbiddenError('Only an owner can invite an owner');
    const email = normalizeEmail(input.email);
    const { token, hash } = newOpaqueToken();
    const invitation = await inTransaction(ctx, async (tx) => {
      await locked(tx, organization);
      if (await membershipRepository.isMemberByEmail(tx, organization.id, email)) {
        throw new ConflictError('This person is already a member', 'email');
      }
      const created = await invitationRepository.replacePending(tx, {
        organizationId: organization.id,
        email,
        role: input.role,
        tokenHash: hash,
        expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
        invitedById: userId,
      });
      await queueInvitationMail(ctx, tx, organization, created, token);
      await recordAudit(ctx, tx, {
        action: AUDIT_ACTIONS.inviteMember,
        organizationId: organization.id,
        target: { type: 'invitation', id: created.id, label: email },
        changes: diff(null, { email, role: input.role, token: 1 }, ['token']),
      });
      return created;
    });
    return { invitation: await invitationView(ctx, invitation), token };
  }

  /** Single use, unexpired, and only by the signed-in user the invitation was sent to. */
  async accept(ctx: RequestContext, token: string): Promise<UserRole> {
    const userId = requireUser(ctx, 'A service account cannot join another organization');
    // Tokens are unguessable, but nobody gets to try many.
    await authThrottle(ctx).attempt('acceptInvitation', userId, ctx.clientAddress);
    await assertVerifiedEmail(ctx, userId, 'accept an invitation');
    return inTransaction(ctx, async (tx) => {
      const membership = await acceptPendingInvitation(tx, token, {
        id: userId,
        email: await userRepository.emailOf(tx, userId),
      });
      // A platform invitation is for signing up (signUp's invitationToken), not for joining.
      if (!membership) throw new NotFoundError('Invitation');
      await recordAudit(ctx, tx, {
        action: AUDIT_ACTIONS.acceptInvitation,
        organizationId: membership.organizationId,
        target: { type: 'user', id: userId },
        changes: diff(null, { role: membership.role }),
      });
      return membership;
    });
  }

  async updateRole(ctx: RequestContext, access: OrganizationDecision, input: UpdateMemberRoleInput): Promise<UserRole> {
    const { organization } = await access.get();
    return inTransaction(ctx, async (tx) => {
      await locked(tx, organization);
      const callerRole = await lockedCallerRole(ctx, tx, organization);
      const target = await membershipRepository.find(tx, organization.id, input.userId);
      if (!target) throw new NotFoundError('Member');
      if (!roleCan(callerRole, roleChangeNeeds(target.role, input.role))) {
        throw new ForbiddenError('Only an owner can make someone owner or change an owner');
      }
      if (target.role === OrganizationRole.OWNER && input.role !== OrganizationRole.OWNER) {
        if ((await membershipRepository.ownerCount(tx, organization.id)) <= 1) throw new ConflictError(LAST_OWNER);
      }
      await membershipRepository.setRole(tx, target.id, input.role);
      await capGrants(tx, organization.id, { kind: PrincipalKind.USER, id: target.userId }, input.role);
      await revokeInvitationsBeyond(tx, organization.id, target.userId, input.role);
      await recordAudit(ctx, tx, {
        ...memberEvent(AUDIT_ACTIONS.updateMemberRole, organization, target.userId),
        changes: diff({ role: target.role }, { role: input.role }),
      });
      target.role = input.role;
      return target;
    });
  }

  async remove(ctx: RequestContext, access: OrganizationDecision, userId: string): Promise<boolean> {
    assertUuid('userId', userId);
    const { organization } = await access.get();
    await inTransaction(ctx, async (tx) => {
      await locked(tx, organization, { withdraws: true });
      const callerRole = await lockedCallerRole(ctx, tx, organization);
      const target = await membershipRepository.find(tx, organization.id, userId);
      if (!target) throw new NotFoundError('Member');
      if (!roleCan(callerRole, roleChangeNeeds(target.role, null))) {
        throw new ForbiddenError('Only an owner can remove an owner');
      }
      if (target.role === OrganizationRole.OWNER && (await membershipRepository.ownerCount(tx, organization.id)) <= 1) {
        throw new ConflictError(LAST_OWNER);
      }
      await projectGrantRepository.deleteInOrganization(tx, organization.id, userId);
      await membershipRepository.delete(tx, organization.id, userId);
      await revokeInvitationsBeyond(tx, organization.id, userId, null);
      await recordAudit(ctx, tx, {
        ...memberEvent(AUDIT_ACTIONS.removeMember, organization, userId),
        changes: diff({ role: target.role }, { role: null }),
      });
    });
    return true;
  }

  async leave(ctx: RequestContext, access: OrganizationDecision): Promise<boolean> {
    const userId = requireUser(ctx, 'A service account cannot leave its organization: an admin deletes it');
    const { organization } = await access.get();
    await inTransaction(ctx, async (tx) => {
      await locked(tx, organization);
      const mine = await membershipRepository.find(tx, organization.id, userId);
      if (!mine) throw new NotFoundError('Organization', organization.slug);
      if (mine.role === OrganizationRole.OWNER && (await membershipRepository.ownerCount(tx, organization.id)) <= 1) {
        throw new ConflictError(LAST_OWNER);
      }
      await projectGrantRepository.deleteInOrganization(tx, organization.id, userId);
      await membershipRepository.delete(tx, organization.id, userId);
      await revokeInvitationsBeyond(tx, organization.id, userId, null);
      await recordAudit(ctx, tx, {
        ...memberEvent(AUDIT_ACTIONS.leaveOrganization, organization, userId),
        changes: diff({ role: mine.role }, { role: null }),
      });
    });
    return true;
  }
}

/** A membership's event: in its organization, about the member. */
function memberEvent(action: AuditAction, organization: Organization, userId: string) {
  return { action, organizationId: organization.id, target: { type: 'user', id: userId } };
}

export const membershipService = new MembershipService();
