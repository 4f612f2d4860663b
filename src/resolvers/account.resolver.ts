import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { User } from '../entities/user.entity';
import { ChangePasswordInput } from '../inputs/auth.inputs';
import { Permission } from '../permissions';
import type { RequestContext } from '../request/context';
import { accountService } from '../services/account.service';
import { sessionService } from '../services/session.service';
import { SessionView } from '../types/auth-payload.type';

/** The signed-in user's own sessions, password and address. */
@Resolver(() => User)
export class AccountResolver {
  private readonly sessionService = sessionService;
  private readonly accountService = accountService;

  @Authorized(Permission.AccountCredentialsManage)
  @FieldResolver(() => [SessionView], { description: "The user's live sessions, latest used first; `me` only." })
  sessions(@Ctx() ctx: RequestContext, @Root() user: User): Promise<SessionView[]> {
    return this.sessionService.list(ctx, user);
  }

  @Authorized(Permission.AccountCredentialsManage)
  @Mutation(() => Boolean, {
    description: "Ends this request's session: its tokens are refused from the next request on.",
  })
  logOut(@Ctx() ctx: RequestContext): Promise<boolean> {
    return this.sessionService.logOut(ctx);
  }

  @Authorized(Permission.AccountCredentialsManage)
  @Mutation(() => Boolean, { description: "Ends one of the caller's sessions; NOT_FOUND for any other." })
  revokeSession(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return this.sessionService.revokeOne(ctx, id);
  }

  @Authorized(Permission.AccountCredentialsManage)
  @Mutation(() => Boolean, { description: 'Ends every session of the caller, this one included.' })
  revokeAllSessions(@Ctx() ctx: RequestContext): Promise<boolean> {
    return this.sessionService.revokeAll(ctx);
  }

  @Authorized(Permission.AccountCredentialsManage)
  @Mutation(() => Boolean, { description: 'Needs the current password; ends every other session.' })
  changePassword(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => ChangePasswordInput) input: ChangePasswordInput,
  ): Promise<boolean> {
    return this.accountService.changePassword(ctx, input);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'E-mails a new verification link (nothing when the address is verified).' })
  requestEmailVerification(@Ctx() ctx: RequestContext): Promise<boolean> {
    return this.accountService.requestEmailVerification(ctx);
  }
}
