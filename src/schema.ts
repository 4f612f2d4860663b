import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { assertMarkedMutationsExist, authChecker } from './auth/auth-checker';
import { validateArgument } from './graphql/argument-validation';
import { AccountResolver } from './resolvers/account.resolver';
import { OrganizationAuditResolver, PlatformAuditResolver, UserAuditResolver } from './resolvers/audit.resolver';
import { BillingPaymentsResolver } from './resolvers/billing-payments.resolver';
import { BillingResolver, OrganizationBillingResolver } from './resolvers/billing.resolver';
import { InvitationResolver } from './resolvers/invitation.resolver';
import { MembershipResolver } from './resolvers/membership.resolver';
import { OrganizationResolver } from './resolvers/organization.resolver';
import { ProjectCredentialsResolver } from './resolvers/project-credentials.resolver';
import { ProjectPermissionResolver } from './resolvers/project-permission.resolver';
import { ProjectResolver } from './resolvers/project.resolver';
import { PublicResolver } from './resolvers/public.resolver';
import { PlatformAdminResolver } from './resolvers/platform-admin.resolver';
import { PlatformBillingResolver, PlatformOrganizationResolver, PlatformResolver } from './resolvers/platform.resolver';
import { OrganizationServiceAccountsResolver, ServiceAccountResolver } from './resolvers/service-account.resolver';
import { UserResolver } from './resolvers/user.resolver';
import { ViewerResolver } from './resolvers/viewer.resolver';
import { OrganizationWebhooksResolver, WebhookResolver } from './resolvers/webhook.resolver';

export const resolvers = [
  PublicResolver,
  UserResolver,
  AccountResolver,
  OrganizationResolver,
  MembershipResolver,
  InvitationResolver,
  ProjectResolver,
  ProjectCredentialsResolver,
  ProjectPermissionResolver,
  OrganizationBillingResolver,
  BillingResolver,
  BillingPaymentsResolver,
  PlatformResolver,
  PlatformOrganizationResolver,
  PlatformBillingResolver,
  PlatformAdminResolver,
  ServiceAccountResolver,
  OrganizationServiceAccountsResolver,
  ViewerResolver,
  OrganizationAuditResolver,
  UserAuditResolver,
  PlatformAuditResolver,
  WebhookResolver,
  OrganizationWebhooksResolver,
] as const;

export async function buildApiSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers,
    authChecker,
    validateFn: validateArgument,
  });
  assertMarkedMutationsExist(schema);
  return schema;
}
