import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { sqlIn } from './sql-enum';

export enum ProjectStatus {
  COMING_UP = 'COMING_UP',
  ACTIVE_HEALTHY = 'ACTIVE_HEALTHY',
  PAUSING = 'PAUSING',
  PAUSED = 'PAUSED',
  RESTORING = 'RESTORING',
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
}
