import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { sqlIn } from './sql-enum';
import { OrganizationRole } from './user-role.entity';
import { User } from './user.entity';

/**
 * An invitation to join an organization. Only the SHA-256 of its single-use token is kept;
 * the token itself is shown once, to the inviter. One pending invitation per e-mail and organization.
 */
@Entity({ name: 'invitations' })
@Unique(['tokenHash'])
@Index('UQ_invitations_pending_per_email', ['organizationId', 'email'], {
  unique: true,
  where: 'accepted_at IS NULL',
})
@Check('CHK_invitations_role', sqlIn('role', OrganizationRole))
@Check('CHK_invitations_email_normalized', 'email = lower(btrim(email))')
@Index('UQ_invitations_pending_platform_per_email', ['email'], {
  unique: true,
  where: 'organization_id IS NULL AND accepted_at IS NULL',
})
@Check('CHK_invitations_scope', '(organization_id IS NULL) = (role IS NULL)')
@Check('CHK_invitations_token_hash', `token_hash ~ '^[0-9a-f]{64}$'`)
export class Invitation extends BaseEntity {
  /** Null for a platform invitation: a sign-up (SIGNUP_MODE invite or closed) that joins no organization. */
  @Index()
  @Column({ type: 'uuid', nullable: true })
  organizationId: string | null;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'organization_id' })
  organization?: Organization;

  @Column({ type: 'varchar', length: 320 })
  email: string;

  @Column({ type: 'varchar', length: 16, nullable: true })
  role: OrganizationRole | null;

  @Column({ type: 'char', length: 64 })
  tokenHash: string;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @Index()
  @Column({ type: 'uuid', nullable: true })
  invitedById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'invited_by_id' })
  invitedBy?: User | null;

  @Column({ type: 'timestamptz', nullable: true })
  acceptedAt: Date | null;

  @Index()
  @Column({ type: 'uuid', nullable: true })
  acceptedById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'accepted_by_id' })
  acceptedBy?: User | null;
}
