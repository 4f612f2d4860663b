import { Field, ObjectType } from 'type-graphql';
import { OrganizationRole } from '../entities/user-role.entity';

/** A user's membership of an organization (a user_roles row, seen from the API). */
@ObjectType({ simpleResolvers: true })
export class Membership {
  organizationId: string;

  userId: string;

  @Field(() => OrganizationRole)
  role: OrganizationRole;
}
