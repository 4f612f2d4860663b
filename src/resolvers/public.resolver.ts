import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../request/context';
import { LogInInput, ResetPasswordInput, SignUpInput } from '../inputs/auth.inputs';
import { User } from '../entities/user.entity';
import { accountService } from '../services/account.service';
import { sessionService } from '../services/session.service';
import { authService } from '../services/auth.service';
import { planService } from '../services/billing-plan.service';
import { AuthPayload } from '../types/auth-payload.type';
import { PlanView } from '../types/billing.types';

/** The only operations open to anonymous callers. */
@Resolver()
export class PublicResolver {
  private readonly authService = authService;
  private readonly planService = planService;
  private readonly sessionService = sessionService;
  private readonly accountService = accountService;

  @Query(() => [PlanView], { description: 'The plan catalog, cheapest first.' })
  plans(@Ctx() ctx: RequestContext): Promise<PlanView[]> {
    return this.planService.list(ctx);
  }

  @Mutation(() => AuthPayload, { description: 'Creates an account and signs it in.' })
  signUp(@Ctx() ctx: RequestContext, @Arg('input', () => SignUpInput) input: SignUpInput): Promise<AuthPayload> {
    return this.authService.signUp(ctx, input);
  }

  @Mutation(() => AuthPayload, { description: 'Signs in; the same error for an unknown e-mail and a wrong password.' })
  logIn(@Ctx() ctx: RequestContext, @Arg('input', () => LogInInput) input: LogInInput): Promise<AuthPayload> {
    return this.authService.logIn(ctx, input);
  }

  @Mutation(() => AuthPayload, {
    description: 'Trades a refresh token for a new pair; a token used twice revokes its session (UNAUTHENTICATED).',
  })
  refreshSession(
    @Ctx() ctx: RequestContext,
    @Arg('refreshToken', () => String) refreshToken: string,
  ): Promise<AuthPayload> {
    return this.sessionService.refresh(ctx, refreshToken);
  }

  @Mutation(() => Boolean, { description: 'Always true: e-mails a reset link when the address is an account’s.' })
  requestPasswordReset(@Ctx() ctx: RequestContext, @Arg('email', () => String) email: string): Promise<boolean> {
    return this.accountService.requestPasswordReset(ctx, email);
  }

  @Mutation(() => Boolean, { description: "Sets the password with a reset mail's token; ends every session." })
  resetPassword(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => ResetPasswordInput) input: ResetPasswordInput,
  ): Promise<boolean> {
    return this.accountService.resetPassword(ctx, input);
  }

  @Mutation(() => User, { description: "Marks the address verified, with a verification mail's token." })
  verifyEmail(@Ctx() ctx: RequestContext, @Arg('token', () => String) token: string): Promise<User> {
    return this.accountService.verifyEmail(ctx, token);
  }
}
