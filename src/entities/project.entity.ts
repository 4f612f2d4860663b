import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { sqlIn } from './sql-enum';

export enum ProjectStatus {
  COMING_UP = 'COMING_UP',
  ACTIVE_HEALTHY = 'ACTIVE_HEALTHY',
  INIT_FAILED = 'INIT_FAILED',
  PAUSING = 'PAUSING',
  PAUSED = 'PAUSED',
  PAUSE_FAILED = 'PAUSE_FAILED',
  RESTORING = 'RESTORING',
  RESTORE_FAILED = 'RESTORE_FAILED',
  GOING_DOWN = 'GOING_DOWN',
  REMOVED = 'REMOVED',
}
registerEnumType(ProjectStatus, { name: 'ProjectStatus' });

export const PROJECT_REF_PATTERN = '^[a-z0-9]{16}$';

// Plain fields read the property directly: no type-graphql wrapper per field on the hot read path.
@ObjectType({ simpleResolvers: true })
@Entity({ name: 'projects' })
@Unique(['ref'])
@Check('CHK_projects_ref_format', `ref ~ '${PROJECT_REF_PATTERN}'`)
@Check('CHK_projects_status', sqlIn('status', ProjectStatus))
export class Project extends BaseEntity {
  @Field()
  @Column({ type: 'varchar', length: 120 })
  name: string;

  @Field()
  @Column({ type: 'char', length: 16 })
  ref: string;

  @Index()
  @Column({ type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'organization_id' })
  organization?: Organization;

  @Field()
  @Column({ type: 'varchar', length: 32 })
  region: string;

  @Field(() => ProjectStatus)
  @Column({ type: 'varchar', length: 16, default: ProjectStatus.COMING_UP })
  status: ProjectStatus;

  @Field(() => Date, { nullable: true, description: 'When it was deleted: it is purged DELETION_GRACE_DAYS later.' })
  @Column({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  /** The status to return to if it is undeleted during its grace period. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  statusBeforeDeletion: ProjectStatus | null;

  /** When the status last changed (a trigger keeps it): names the transition a lifecycle step belongs to. */
  @Column({ type: 'timestamptz', default: () => 'now()' })
  statusChangedAt: Date;
}
