import type { EntityManager } from 'typeorm';
import { hashToken } from '../crypto/opaque-tokens';
import type { Invitation } from '../entities/invitation.entity';
import type { OrganizationRole, UserRole } from '../entities/user-role.entity';
import { roleCan, roleChangeNeeds } from '../permissions';
import { ForbiddenError, NotFoundError } from '../errors';
import { invitationRepository, membershipRepository } from '../repositories/membership.repository';
import { lockLiveOrganization } from './organization-lock';

/** The pending, unexpired invitation with this token, unlocked: what a sign-up checks before it hashes anything. */
export async function livePendingInvitation(db: EntityManager, token: string): Promise<Invitation | null> {
  const found = await invitationRepository.pending(db, hashToken(token));
  return found && found.expiresAt.getTime() > Date.now() ? found : null;
}

/**
 * An invitation is only as good as its inviter: checked again at acceptance, under the
 * organization's lock, that whoever sent it is still a member who may invite with its role.
 */
async function assertInviterStillMay(
  tx: EntityManager,
  organizationId: string,
  inviterId: string | null,
  role: OrganizationRole,
): Promise<void> {
  const inviterRole = inviterId ? await invitationRepository.callerRole(tx, organizationId, inviterId) : null;
  if (!roleCan(inviterRole, roleChangeNeeds(null, role))) {
    throw new ForbiddenError('This invitation is no longer valid: whoever sent it can no longer grant this role');
  }
}

/**
 * Accepts the pending invitation behind `token` for `user`, in `tx`: an organization invitation
 * makes them a member (under the organization's lock, taken first as every change of it does),
 * a platform invitation is used up. Single use, unexpired, and only for the address it was sent to.
 */
export async function acceptPendingInvitation(
  tx: EntityManager,
  token: string,
  user: { id: string; email: string | null },
): Promise<UserRole | null> {
  const tokenHash = hashToken(token);
  const found = await invitationRepository.pending(tx, tokenHash);
  if (!found) throw new NotFoundError('Invitation');
  if (found.organizationId) {
    await lockLiveOrganization(tx, found.organizationId, () => new NotFoundError('Invitation'));
  }
  const invitation = await invitationRepository.pendingForUpdate(tx, tokenHash);
  if (!invitation || invitation.expiresAt.getTime() <= Date.now()) throw new NotFoundError('Invitation');
  if (user.email !== invitation.email) throw new ForbiddenError('This invitation was sent to another e-mail address');
  if (invitation.organizationId && invitation.role) {
    await assertInviterStillMay(tx, invitation.organizationId, invitation.invitedById, invitation.role);
  }
  await invitationRepository.markAccepted(tx, invitation.id, user.id);
  if (!invitation.organizationId || !invitation.role) return null;
  return membershipRepository.insert(tx, {
    organizationId: invitation.organizationId,
    userId: user.id,
    role: invitation.role,
  });
}
