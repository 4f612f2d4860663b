import { Field, ObjectType } from 'type-graphql';
import { Check, Column, Entity, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';

/**
 * E-mail addresses are stored normalized (trimmed, lower-case), which the CHECK enforces,
 * so the plain unique constraint makes them case-insensitively unique.
 */
// Plain fields read the property directly: no type-graphql wrapper per field on the hot read path.
@ObjectType({ simpleResolvers: true })
@Entity({ name: 'users' })
@Unique(['email'])
@Check('CHK_users_email_normalized', 'email = lower(btrim(email))')
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
}
