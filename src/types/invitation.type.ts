import { Field, ID, ObjectType } from 'type-graphql';
import { OrganizationRole } from '../entities/user-role.entity';

@ObjectType('Invitation')
export class InvitationView {
  @Field(() => ID)
  id: string;

  @Field()
  email: string;

  @Field(() => OrganizationRole)
  role: OrganizationRole;

  @Field()
  expiresAt: Date;
}

@ObjectType()
export class InvitationPayload {
  @Field(() => InvitationView)
  invitation: InvitationView;

  /** The single-use token, shown this once: only its hash is stored. */
  @Field()
  token: string;
}
