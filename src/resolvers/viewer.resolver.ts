import { Authorized, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { Organization } from '../entities/organization.entity';
import { ServiceAccount } from '../entities/service-account.entity';
import { User } from '../entities/user.entity';
import type { RequestContext } from '../request/context';
import { viewerService } from '../services/viewer.service';
import { ViewerView } from '../types/machine-access.types';

@Resolver(() => ViewerView)
export class ViewerResolver {
  private readonly viewerService = viewerService;

  @Authorized()
  @Query(() => ViewerView, { description: 'Who the caller is: a user, or a service account with its organization.' })
  viewer(@Ctx() ctx: RequestContext): ViewerView {
    return this.viewerService.whoami(ctx);
  }

  @Authorized()
  @FieldResolver(() => User, { nullable: true, description: 'The user, when the caller is one.' })
  user(@Ctx() ctx: RequestContext, @Root() viewer: ViewerView): Promise<User | null> {
    return this.viewerService.user(ctx, viewer);
  }

  @Authorized()
  @FieldResolver(() => ServiceAccount, { nullable: true, description: 'The service account, when the caller is one.' })
  serviceAccount(@Ctx() ctx: RequestContext, @Root() viewer: ViewerView): Promise<ServiceAccount | null> {
    return this.viewerService.serviceAccount(ctx, viewer);
  }

  @Authorized()
  @FieldResolver(() => Organization, { nullable: true, description: "The service account's organization." })
  organization(@Ctx() ctx: RequestContext, @Root() viewer: ViewerView): Promise<Organization | null> {
    return this.viewerService.organization(ctx, viewer);
  }
}
