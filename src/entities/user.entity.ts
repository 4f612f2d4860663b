import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Check, Column, Entity, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';
import { sqlIn } from './sql-enum';

/** The operator's staff: granted and revoked from the command line (`npm run platform:admin`), never through the API. */
export enum PlatformRole {
  PLATFORM_ADMIN = 'platform_admin',
  /** Reads what a platform admin reads; changes nothing. */
  PLATFORM_VIEWER = 'platform_viewer',
}
registerEnumType(PlatformRole, { name: 'PlatformRole' });

/**
 * E-mail addresses are stored normalized (trimmed, lower-case), which the CHECK enforces,
 * so the plain unique constraint makes them case-insensitively unique.
 */
// Plain fields read the property directly: no type-graphql wrapper per field on the hot read path.
@ObjectType({ simpleResolvers: true })
@Entity({ name: 'users' })
@Unique(['email'])
@Check('CHK_users_email_normalized', 'email = lower(btrim(email))')
@Check('CHK_users_platform_role', sqlIn('platform_role', PlatformRole))
export class User extends BaseEntity {
  @Field()
  @Column({ type: 'varchar', length: 320 })
  email: string;

  /** argon2id PHC string. */
  @Column({ type: 'text', select: false })
  hashedPassword: string;

  @Field()
  @Column({ type: 'varchar', length: 120 })
  displayName: string;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', nullable: true })
  lastLoginAt: Date | null;

  /** Null for tenants; no membership in any organization comes with it. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  platformRole: PlatformRole | null;

  /** Set by verifyEmail (or a password reset, whose link reached the address). */
  @Field()
  @Column({ type: 'boolean', default: false })
  emailVerified: boolean;
}
