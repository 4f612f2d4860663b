import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';
import { sqlIn } from './sql-enum';
import { User } from './user.entity';

export enum AccountTokenPurpose {
  EMAIL_VERIFICATION = 'email_verification',
  PASSWORD_RESET = 'password_reset',
}

/** A single-use token e-mailed to a user (verify the address, reset the password): only its SHA-256 is kept. */
@Entity({ name: 'account_tokens' })
@Unique(['tokenHash'])
@Check('CHK_account_tokens_purpose', sqlIn('purpose', AccountTokenPurpose))
@Check('CHK_account_tokens_token_hash', `token_hash ~ '^[0-9a-f]{64}$'`)
export class AccountToken extends BaseEntity {
  @Index()
  @Column({ type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'varchar', length: 24 })
  purpose: AccountTokenPurpose;

  @Column({ type: 'char', length: 64 })
  tokenHash: string;

  /** The address it was sent to: a verification holds for that address only. */
  @Column({ type: 'varchar', length: 320 })
  email: string;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  usedAt: Date | null;
}
