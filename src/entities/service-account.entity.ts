import { Field, ObjectType } from 'type-graphql';
import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { OrganizationRole } from './user-role.entity';
import { User } from './user.entity';

/** The roles a service account may hold: any but owner. */
export const SERVICE_ACCOUNT_ROLES = [
  OrganizationRole.ADMIN,
  OrganizationRole.MEMBER,
  OrganizationRole.VIEWER,
] as const;

/**
 * A machine principal of one organization (CI, Terraform, cron): its row is its membership, with
 * an organization role that is never owner; its project grants live beside the members' ones.
 */
@ObjectType({ simpleResolvers: true })
@Entity({ name: 'service_accounts' })
@Unique(['organizationId', 'name'])
@Check('CHK_service_accounts_role', `role IN (${SERVICE_ACCOUNT_ROLES.map((role) => `'${role}'`).join(', ')})`)
export class ServiceAccount extends BaseEntity {
  @Index()
  @Column({ type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'organization_id' })
  organization?: Organization;

  @Field()
  @Column({ type: 'varchar', length: 120 })
  name: string;

  @Field(() => OrganizationRole)
  @Column({ type: 'varchar', length: 16 })
  role: OrganizationRole;

  @Index()
  @Column({ type: 'uuid', nullable: true })
  createdById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'created_by_id' })
  createdBy?: User | null;
}
