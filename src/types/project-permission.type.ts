import { Field, ObjectType } from 'type-graphql';
import { AccessLevel } from '../entities/permission.entity';

/** One user's grant on a project. */
@ObjectType('ProjectPermission')
export class ProjectGrant {
  projectId: string;

  userId: string;

  @Field(() => AccessLevel)
  accessLevel: AccessLevel;
}
