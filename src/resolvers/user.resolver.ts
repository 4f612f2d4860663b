import { Authorized, Ctx, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../request/context';
import { User } from '../entities/user.entity';
import { authService } from '../services/auth.service';

@Resolver(() => User)
export class UserResolver {
  private readonly authService = authService;

  @Authorized()
  @Query(() => User, { description: 'The signed-in caller.' })
  me(@Ctx() ctx: RequestContext): Promise<User> {
    return this.authService.me(ctx);
  }
}
