import { createHash, randomBytes } from 'node:crypto';
import { IsNull, type EntityManager } from 'typeorm';
import { organizationAccess } from '../auth/access';
import { requireViewer, type RequestContext } from '../request/context';
import { Permission, roleCan, roleChangeNeeds } from '../permissions';
import { inTransaction } from '../request/transaction';
import { Invitation } from '../entities/invitation.entity';
import type { Organization } from '../entities/organization.entity';
import { OrganizationRole, UserRole } from '../entities/user-role.entity';
import { User } from '../entities/user.entity';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors';
import { assertUuid } from '../inputs/ids';
import type { InviteMemberInput, UpdateMemberRoleInput } from '../inputs/organization.inputs';
import { authThrottle } from '../security/auth-throttle';
import type { InvitationPayload } from '../types/invitation.type';
import { Membership } from '../types/membership.type';
import { normalizeEmail } from './auth.service';
import { lockOrganization } from '../repositories/organization.repository';
import { hydrate } from '../database/hydrate';

export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function toMembership(row: Pick<UserRole, 'organizationId' | 'userId' | 'role'>): Membership {
  return hydrate(Membership, { organizationId: row.organizationId, userId: row.userId, role: row.role });
}

const LAST_OWNER = 'An organization must keep at least one owner: make someone else owner first';

/** Removes a membership and, with it, the user's grants on the organization's projects. */
async function deleteMembership(tx: EntityManager, organizationId: string, userId: string): Promise<void> {
  await tx.query(
    'DELETE FROM permissions WHERE user_id = $1 AND project_id IN (SELECT id FROM projects WHERE organization_id = $2)',
    [userId, organizationId],
  );
  await tx.delete(UserRole, { organizationId, userId });
}

/**
 * The caller's role read again under the organization lock: a racing request may have changed
 * it since the access check, and a demoted owner must not act as one.
 */
async function lockedCallerRole(
  ctx: RequestContext,
  tx: EntityManager,
  organization: Organization,
): Promise<OrganizationRole> {
  const { userId } = requireViewer(ctx);
  const mine = await tx.findOneBy(UserRole, { organizationId: organization.id, userId });
  if (!mine) throw new NotFoundError('Organization', organization.slug);
  if (!roleCan(mine.role, Permission.MembersManage)) throw new ForbiddenError();
  return mine.role;
}

async function ownerCount(tx: EntityManager, organizationId: string): Promise<number> {
  return tx.countBy(UserRole, { organizationId, role: OrganizationRole.OWNER });
}

export class MembershipService {
  async members(ctx: RequestContext, organization: Organization): Promise<Membership[]> {
    return (await ctx.loaders.membersByOrganization.load(organization.id)).map(toMembership);
  }

  async user(ctx: RequestContext, membership: { userId: string }): Promise<User> {
    const user = await ctx.loaders.userById.load(membership.userId);
    if (!user) throw new NotFoundError('User');
    return user;
  }

  /** Returns the token once; only its hash is stored. A new invitation replaces a pending one. */
  async invite(ctx: RequestContext, input: InviteMemberInput): Promise<InvitationPayload> {
    const { userId } = requireViewer(ctx);
    const { organization, role } = await organizationAccess(
      ctx,
      { slug: input.organizationSlug },
      Permission.MembersManage,
    );
    if (!roleCan(role, roleChangeNeeds(null, input.role)))
      throw new ForbiddenError('Only an owner can invite an owner');
    const email = normalizeEmail(input.email);
    const token = randomBytes(32).toString('base64url');
    const invitation = await inTransaction(ctx, async (tx) => {
      const [member] = await tx.query<unknown[]>(
        'SELECT 1 FROM user_roles r JOIN users u ON u.id = r.user_id WHERE r.organization_id = $1 AND u.email = $2',
        [organization.id, email],
      );
      if (member) throw new ConflictError('This person is already a member', 'email');
      await tx.delete(Invitation, { organizationId: organization.id, email, acceptedAt: IsNull() });
      return tx.save(
        tx.create(Invitation, {
          organizationId: organization.id,
          email,
          role: input.role,
          tokenHash: hashToken(token),
          expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
          invitedById: userId,
        }),
      );
    });
    return { invitation, token };
  }

  /** Single use, unexpired, and only by the signed-in user the invitation was sent to. */
  async accept(ctx: RequestContext, token: string): Promise<Membership> {
    const { userId } = requireViewer(ctx);
    // Tokens are unguessable, but nobody gets to try many.
    authThrottle(ctx).attempt('acceptInvitation', userId, ctx.clientAddress);
    return inTransaction(ctx, async (tx) => {
      const invitation = await tx
        .getRepository(Invitation)
        .createQueryBuilder('invitation')
        .setLock('pessimistic_write')
        .where('invitation.token_hash = :hash AND invitation.accepted_at IS NULL', { hash: hashToken(token) })
        .getOne();
      if (!invitation || invitation.expiresAt.getTime() <= Date.now()) throw new NotFoundError('Invitation');
      const user = await tx.findOneByOrFail(User, { id: userId });
      if (user.email !== invitation.email) {
        throw new ForbiddenError('This invitation was sent to another e-mail address');
      }
      const membership = { organizationId: invitation.organizationId, userId, role: invitation.role };
      await tx.insert(UserRole, membership);
      await tx.update(Invitation, { id: invitation.id }, { acceptedAt: new Date(), acceptedById: userId });
      return toMembership(membership);
    });
  }

  async updateRole(ctx: RequestContext, input: UpdateMemberRoleInput): Promise<Membership> {
    const { organization } = await organizationAccess(ctx, { slug: input.organizationSlug }, Permission.MembersManage);
    return inTransaction(ctx, async (tx) => {
      await lockOrganization(tx, organization.id);
      const callerRole = await lockedCallerRole(ctx, tx, organization);
      const target = await tx.findOneBy(UserRole, { organizationId: organization.id, userId: input.userId });
      if (!target) throw new NotFoundError('Member');
      if (!roleCan(callerRole, roleChangeNeeds(target.role, input.role))) {
        throw new ForbiddenError('Only an owner can make someone owner or change an owner');
      }
      if (target.role === OrganizationRole.OWNER && input.role !== OrganizationRole.OWNER) {
        if ((await ownerCount(tx, organization.id)) <= 1) throw new ConflictError(LAST_OWNER);
      }
      await tx.update(UserRole, { id: target.id }, { role: input.role });
      return toMembership({ ...target, role: input.role });
    });
  }

  async remove(ctx: RequestContext, slug: string, userId: string): Promise<boolean> {
    assertUuid('userId', userId);
    const { organization } = await organizationAccess(ctx, { slug }, Permission.MembersManage);
    await inTransaction(ctx, async (tx) => {
      await lockOrganization(tx, organization.id);
      const callerRole = await lockedCallerRole(ctx, tx, organization);
      const target = await tx.findOneBy(UserRole, { organizationId: organization.id, userId });
      if (!target) throw new NotFoundError('Member');
      if (!roleCan(callerRole, roleChangeNeeds(target.role, null))) {
        throw new ForbiddenError('Only an owner can remove an owner');
      }
      if (target.role === OrganizationRole.OWNER && (await ownerCount(tx, organization.id)) <= 1) {
        throw new ConflictError(LAST_OWNER);
      }
      await deleteMembership(tx, organization.id, userId);
    });
    return true;
  }

  async leave(ctx: RequestContext, slug: string): Promise<boolean> {
    const { userId } = requireViewer(ctx);
    const { organization } = await organizationAccess(ctx, { slug }, Permission.OrganizationRead);
    await inTransaction(ctx, async (tx) => {
      await lockOrganization(tx, organization.id);
      const mine = await tx.findOneBy(UserRole, { organizationId: organization.id, userId });
      if (!mine) throw new NotFoundError('Organization', slug);
      if (mine.role === OrganizationRole.OWNER && (await ownerCount(tx, organization.id)) <= 1) {
        throw new ConflictError(LAST_OWNER);
      }
      await deleteMembership(tx, organization.id, userId);
    });
    return true;
  }
}

export const membershipService = new MembershipService();
