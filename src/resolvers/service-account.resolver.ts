import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { OrganizationDecision } from '../auth/access';
import { Granted, LocatedBy } from '../auth/auth-checker';
import type { AccessKey } from '../entities/access-key.entity';
import { Organization } from '../entities/organization.entity';
import { ServiceAccount } from '../entities/service-account.entity';
import { User } from '../entities/user.entity';
import {
  CreateApiKeyInput,
  CreateServiceAccountInput,
  UpdateServiceAccountInput,
} from '../inputs/machine-access.inputs';
import { Permission } from '../permissions';
import type { RequestContext } from '../request/context';
import { accessKeyService } from '../services/access-key.service';
import { serviceAccountService } from '../services/service-account.service';
import { Connection, type Page } from '../types/connection.type';
import { ApiKeyPayload, ApiKeyView, apiKeyView } from '../types/machine-access.types';
import { PageArgs } from './organization.resolver';

export const ServiceAccountConnection = Connection(ServiceAccount, 'ServiceAccount');

/** Service accounts and their API keys: managed by whoever may manage members, never with an API key. */
@Resolver(() => ServiceAccount)
export class ServiceAccountResolver {
  private readonly serviceAccountService = serviceAccountService;
  private readonly accessKeyService = accessKeyService;

  @Authorized(Permission.OrganizationRead)
  @FieldResolver(() => Date)
  createdAt(@Root() account: ServiceAccount): Date {
    return account.createdAt;
  }

  // Who made it and its keys are for those who manage members, also where a grant shows the account.
  @Authorized(Permission.MembersManage)
  @FieldResolver(() => User, { nullable: true, description: 'Null once that user is deleted.' })
  createdBy(@Ctx() ctx: RequestContext, @Root() account: ServiceAccount): Promise<User | null> {
    return this.serviceAccountService.createdBy(ctx, account);
  }

  @Authorized(Permission.MembersManage)
  @FieldResolver(() => [ApiKeyView], { description: 'Newest first, revoked ones included; never a secret.' })
  async apiKeys(@Ctx() ctx: RequestContext, @Root() account: ServiceAccount): Promise<ApiKeyView[]> {
    return (await this.serviceAccountService.apiKeys(ctx, account)).map((key: AccessKey) => apiKeyView(key));
  }

  @Authorized(Permission.MembersManage)
  @Mutation(() => ServiceAccount, { description: "Up to the caller's own role; never OWNER." })
  createServiceAccount(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => CreateServiceAccountInput) input: CreateServiceAccountInput,
    @Granted() access: OrganizationDecision,
  ): Promise<ServiceAccount> {
    return this.serviceAccountService.create(ctx, access, input);
  }

  @Authorized(Permission.MembersManage)
  @LocatedBy('serviceAccount')
  @Mutation(() => ServiceAccount, {
    description: 'Absent fields stay as they are. A viewer keeps at most read grants.',
  })
  updateServiceAccount(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateServiceAccountInput) input: UpdateServiceAccountInput,
    @Granted() access: OrganizationDecision,
  ): Promise<ServiceAccount> {
    return this.serviceAccountService.update(ctx, access, id, input);
  }

  @Authorized(Permission.MembersManage)
  @LocatedBy('serviceAccount')
  @Mutation(() => Boolean, { description: 'With its keys (refused from the next request on) and grants.' })
  deleteServiceAccount(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Granted() access: OrganizationDecision,
  ): Promise<boolean> {
    return this.serviceAccountService.delete(ctx, access, id);
  }

  @Authorized(Permission.MembersManage)
  @Mutation(() => ApiKeyPayload, { description: 'The secret is returned this once.' })
  createApiKey(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => CreateApiKeyInput) input: CreateApiKeyInput,
    @Granted() access: OrganizationDecision,
  ): Promise<ApiKeyPayload> {
    return this.accessKeyService.createApiKey(ctx, access, input);
  }

  @Authorized(Permission.MembersManage)
  @LocatedBy('apiKey')
  @Mutation(() => Boolean, { description: 'UNAUTHENTICATED from the next request on, on every replica.' })
  revokeApiKey(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Granted() access: OrganizationDecision,
  ): Promise<boolean> {
    return this.accessKeyService.revokeApiKey(ctx, access, id);
  }
}

@Resolver(() => Organization)
export class OrganizationServiceAccountsResolver {
  private readonly serviceAccountService = serviceAccountService;

  @Authorized(Permission.MembersManage)
  @FieldResolver(() => ServiceAccountConnection, { description: 'For those who may manage members.' })
  serviceAccounts(
    @Ctx() ctx: RequestContext,
    @Root() organization: Organization,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<ServiceAccount>> {
    return this.serviceAccountService.list(ctx, organization, page.first, page.after);
  }
}
