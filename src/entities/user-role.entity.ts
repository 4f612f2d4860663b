import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { sqlIn } from './sql-enum';
import { User } from './user.entity';

export enum OrganizationRole {
  OWNER = 'owner',
  ADMIN = 'admin',
  MEMBER = 'member',
  VIEWER = 'viewer',
}
registerEnumType(OrganizationRole, { name: 'OrganizationRole' });

/** A user's membership of an organization: one role per user and organization (the API's Membership). */
@ObjectType('Membership', { simpleResolvers: true })
@Entity({ name: 'user_roles' })
@Unique(['userId', 'organizationId'])
@Check('CHK_user_roles_role', sqlIn('role', OrganizationRole))
export class UserRole extends BaseEntity {
  @Column({ type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Index()
  @Column({ type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'organization_id' })
  organization?: Organization;

  @Field(() => OrganizationRole)
  @Column({ type: 'varchar', length: 16 })
  role: OrganizationRole;
}
