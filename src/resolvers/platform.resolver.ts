import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { MaxLength } from 'class-validator';
import type { PlatformDecision } from '../auth/access';
import { Granted } from '../auth/auth-checker';
import { Permission } from '../permissions';
import type { RequestContext } from '../request/context';
import { platformReadService } from '../services/platform-read.service';
import { SubscriptionView, type InvoiceView, type PaymentMethodView } from '../types/billing.types';
import { Connection, type Page } from '../types/connection.type';
import {
  Platform,
  PlatformBilling,
  PlatformMember,
  PlatformOrganization,
  PlatformProject,
  PlatformUser,
} from '../types/platform.types';
import { InvoiceConnection, PaymentMethodConnection } from './billing.resolver';
import { PageArgs } from './organization.resolver';

export const PlatformOrganizationConnection = Connection(PlatformOrganization, 'PlatformOrganization');
export const PlatformUserConnection = Connection(PlatformUser, 'PlatformUser');
export const PlatformMemberConnection = Connection(PlatformMember, 'PlatformMember');
export const PlatformProjectConnection = Connection(PlatformProject, 'PlatformProject');

@ArgsType()
export class SearchPageArgs extends PageArgs {
  @Field(() => String, {
    nullable: true,
    description: 'Part of a slug or name (organizations), an e-mail or name (users).',
  })
  @MaxLength(100)
  search?: string | null;
}

/** The operator's reads. Platform admins and viewers only; everyone else is FORBIDDEN. */
@Resolver(() => Platform)
export class PlatformResolver {
  private readonly platformReadService = platformReadService;

  @Authorized(Permission.PlatformRead)
  @Query(() => Platform, {
    description: "The operator's part of the schema: FORBIDDEN to all but platform admins and viewers.",
  })
  platform(@Ctx() ctx: RequestContext, @Granted() access: PlatformDecision): Promise<Platform> {
    return this.platformReadService.platform(ctx, access);
  }

  @Authorized(Permission.PlatformRead)
  @FieldResolver(() => PlatformOrganizationConnection, {
    description: 'Every organization, deleted ones included, oldest first.',
  })
  organizations(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Args(() => SearchPageArgs) page: SearchPageArgs,
  ): Promise<Page<PlatformOrganization>> {
    return this.platformReadService.organizations(ctx, access, page.search, page.first, page.after);
  }

  @Authorized(Permission.PlatformRead)
  @FieldResolver(() => PlatformOrganization, { description: 'NOT_FOUND when there is none with this slug.' })
  organization(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Arg('slug', () => String) slug: string,
  ): Promise<PlatformOrganization> {
    return this.platformReadService.organization(ctx, access, slug);
  }

  @Authorized(Permission.PlatformRead)
  @FieldResolver(() => PlatformUserConnection, { description: 'Every account, oldest first.' })
  users(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Args(() => SearchPageArgs) page: SearchPageArgs,
  ): Promise<Page<PlatformUser>> {
    return this.platformReadService.users(ctx, access, page.search, page.first, page.after);
  }
}

@Resolver(() => PlatformOrganization)
export class PlatformOrganizationResolver {
  private readonly platformReadService = platformReadService;

  @Authorized(Permission.PlatformRead)
  @FieldResolver(() => PlatformMemberConnection)
  members(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Root() organization: PlatformOrganization,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<PlatformMember>> {
    return this.platformReadService.members(ctx, access, organization, page.first, page.after);
  }

  @Authorized(Permission.PlatformRead)
  @FieldResolver(() => PlatformProjectConnection, { description: 'Deleted ones included, until they are purged.' })
  projects(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Root() organization: PlatformOrganization,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<PlatformProject>> {
    return this.platformReadService.projects(ctx, access, organization, page.first, page.after);
  }

  @Authorized(Permission.PlatformRead)
  @FieldResolver(() => PlatformBilling, { description: 'BILLING_DISABLED when billing is turned off.' })
  billing(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Root() organization: PlatformOrganization,
  ): Promise<PlatformBilling> {
    return this.platformReadService.billing(ctx, access, organization);
  }
}

@Resolver(() => PlatformBilling)
export class PlatformBillingResolver {
  private readonly platformReadService = platformReadService;

  @Authorized(Permission.PlatformRead)
  @FieldResolver(() => SubscriptionView)
  subscription(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Root() billing: PlatformBilling,
  ): Promise<SubscriptionView> {
    return this.platformReadService.subscription(ctx, access, billing);
  }

  @Authorized(Permission.PlatformRead)
  @FieldResolver(() => InvoiceConnection, {
    description: "Issued invoices, newest first. Their lines are the tenant's: read them as a member.",
  })
  invoices(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Root() billing: PlatformBilling,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<InvoiceView>> {
    return this.platformReadService.invoices(ctx, access, billing, page.first, page.after);
  }

  @Authorized(Permission.PlatformRead)
  @FieldResolver(() => PaymentMethodConnection, { description: 'The default first, then the oldest first.' })
  paymentMethods(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Root() billing: PlatformBilling,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<PaymentMethodView>> {
    return this.platformReadService.paymentMethods(ctx, access, billing, page.first, page.after);
  }
}
