import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../request/context';
import { LogInInput, SignUpInput } from '../inputs/auth.inputs';
import { authService } from '../services/auth.service';
import { planService } from '../services/billing-plan.service';
import { AuthPayload } from '../types/auth-payload.type';
import { PlanView } from '../types/billing.types';

/** The only operations open to anonymous callers. */
@Resolver()
export class PublicResolver {
  private readonly authService = authService;
  private readonly planService = planService;

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
}
