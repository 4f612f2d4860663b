import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';
import { ServiceAccount } from './service-account.entity';
import { User } from './user.entity';

/**
 * A long-lived bearer secret: a service account's API key, or a user's personal access token
 * (exactly one of the two owners). Only the SHA-256 of the secret is kept, found by its lookup id.
 */
@Entity({ name: 'access_keys' })
@Unique(['lookupId'])
@Check('CHK_access_keys_owner', 'num_nonnulls(service_account_id, user_id) = 1')
@Check('CHK_access_keys_secret_hash', `secret_hash ~ '^[0-9a-f]{64}$'`)
export class AccessKey extends BaseEntity {
  /** The public part of the secret, shown in lists as its prefix. */
  @Column({ type: 'varchar', length: 32 })
  lookupId: string;

  @Column({ type: 'char', length: 64, select: false })
  secretHash: string;

  @Column({ type: 'varchar', length: 120 })
  name: string;

  @Index()
  @Column({ type: 'uuid', nullable: true })
  serviceAccountId: string | null;

  @ManyToOne(() => ServiceAccount, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'service_account_id' })
  serviceAccount?: ServiceAccount | null;

  @Index()
  @Column({ type: 'uuid', nullable: true })
  userId: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'user_id' })
  user?: User | null;

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
