import { Field, ID, ObjectType } from 'type-graphql';
import { User } from '../entities/user.entity';

@ObjectType()
export class AuthPayload {
  /** Short-lived (ACCESS_TOKEN_TTL_SECONDS), names its session: revoking the session ends it at once. */
  @Field()
  accessToken: string;

  /** Opaque and single use: refreshSession trades it for a new pair. Only its SHA-256 is stored. */
  @Field()
  refreshToken: string;

  @Field({ description: 'When the access token expires: refresh before, with refreshSession.' })
  expiresAt: Date;

  @Field(() => User)
  user: User;
}

@ObjectType('Session')
export class SessionView {
  @Field(() => ID)
  id: string;

  @Field()
  createdAt: Date;

  @Field({ description: 'Its last refresh, or its log-in.' })
  lastUsedAt: Date;

  @Field()
  expiresAt: Date;

  @Field(() => String, { nullable: true })
  userAgent: string | null;

  @Field(() => String, { nullable: true })
  ipAddress: string | null;

  @Field({ description: "Whether it is the session of this request's access token." })
  current: boolean;
}
