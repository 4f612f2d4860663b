import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Project } from './project.entity';
import { sqlIn } from './sql-enum';
import { User } from './user.entity';

export enum AccessLevel {
  READ = 'read',
  WRITE = 'write',
  ADMIN = 'admin',
}
registerEnumType(AccessLevel, { name: 'AccessLevel' });

/** A user's access to one project: one level per user and project (the API calls it a ProjectPermission). */
@ObjectType('ProjectPermission', { simpleResolvers: true })
@Entity({ name: 'permissions' })
@Unique(['userId', 'projectId'])
@Check('CHK_permissions_access_level', sqlIn('access_level', AccessLevel))
export class ProjectGrant extends BaseEntity {
  @Column({ type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'user_id' })
  user?: User;

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
