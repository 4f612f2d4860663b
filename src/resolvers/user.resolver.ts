import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../request/context';
import { User } from '../entities/user.entity';
import { CreatePersonalAccessTokenInput } from '../inputs/machine-access.inputs';
import { accessKeyService } from '../services/access-key.service';
import { authService } from '../services/auth.service';
import {
  PersonalAccessTokenPayload,
  PersonalAccessTokenView,
  personalAccessTokenView,
} from '../types/machine-access.types';

@Resolver(() => User)
export class UserResolver {
  private readonly authService = authService;
  private readonly accessKeyService = accessKeyService;

  @Authorized()
  @Query(() => User, { description: 'The signed-in user; FORBIDDEN for an API key (see viewer).' })
  me(@Ctx() ctx: RequestContext): Promise<User> {
    return this.authService.me(ctx);
  }

  @Authorized()
  @FieldResolver(() => [PersonalAccessTokenView], {
    description: 'Newest first, revoked ones included; for the user alone, never a secret.',
  })
  async personalAccessTokens(@Ctx() ctx: RequestContext, @Root() user: User): Promise<PersonalAccessTokenView[]> {
    return (await this.accessKeyService.personalAccessTokens(ctx, user)).map((key) => personalAccessTokenView(key));
  }

  @Authorized()
  @Mutation(() => PersonalAccessTokenPayload, {
    description: 'Acts as the caller in every organization; the secret is returned this once. Not with a token.',
  })
  createPersonalAccessToken(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => CreatePersonalAccessTokenInput) input: CreatePersonalAccessTokenInput,
  ): Promise<PersonalAccessTokenPayload> {
    return this.accessKeyService.createPersonalAccessToken(ctx, input);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "One of the caller's own; UNAUTHENTICATED from the next request on." })
  revokePersonalAccessToken(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return this.accessKeyService.revokePersonalAccessToken(ctx, id);
  }
}
