import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Project } from './project.entity';
import { ServiceAccount } from './service-account.entity';
import { sqlIn } from './sql-enum';
import { User } from './user.entity';

export enum AccessLevel {
  READ = 'read',
  WRITE = 'write',
  ADMIN = 'admin',
}
registerEnumType(AccessLevel, { name: 'AccessLevel' });

/**
 * A user's or a service account's access to one project: one level per grantee and project (the
 * API calls it a ProjectPermission). Exactly one of the two grantee columns is set.
 */
@ObjectType('ProjectPermission', { simpleResolvers: true })
@Entity({ name: 'permissions' })
@Unique(['userId', 'projectId'])
@Unique(['serviceAccountId', 'projectId'])
@Check('CHK_permissions_access_level', sqlIn('access_level', AccessLevel))
@Check('CHK_permissions_grantee', 'num_nonnulls(user_id, service_account_id) = 1')
export class ProjectGrant extends BaseEntity {
  @Column({ type: 'uuid', nullable: true })
  userId: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'user_id' })
  user?: User | null;

  @Column({ type: 'uuid', nullable: true })
  serviceAccountId: string | null;

  @ManyToOne(() => ServiceAccount, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'service_account_id' })
  serviceAccount?: ServiceAccount | null;

  @Index()
  @Column({ type: 'uuid' })
  projectId: string;

  @ManyToOne(() => Project, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'project_id' })
  project?: Project;

  @Field(() => AccessLevel)
  @Column({ type: 'varchar', length: 16 })
  accessLevel: AccessLevel;
}
