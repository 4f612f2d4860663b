import { Field, ID, ObjectType } from 'type-graphql';
import { OrganizationRole } from '../entities/user-role.entity';
import { User } from '../entities/user.entity';
import { Connection } from './connection.type';

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

  @Field()
  createdAt: Date;

  @Field(() => User, { nullable: true, description: 'Who vouches for it; null once their account is deleted.' })
  invitedBy: User | null;
}

export const InvitationConnection = Connection(InvitationView, 'Invitation');

@ObjectType()
export class InvitationPayload {
  @Field(() => InvitationView)
  invitation: InvitationView;

  /** The single-use token, shown this once: only its hash is stored. */
  @Field()
  token: string;
}
