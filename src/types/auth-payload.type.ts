import { Field, ObjectType } from 'type-graphql';
import { User } from '../entities/user.entity';

@ObjectType()
export class AuthPayload {
  @Field()
  accessToken: string;

  @Field(() => User)
  user: User;
}
