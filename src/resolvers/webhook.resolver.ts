import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { OrganizationDecision } from '../auth/access';
import { Granted, LocatedBy } from '../auth/auth-checker';
import { Organization } from '../entities/organization.entity';
import { CreateWebhookInput, UpdateWebhookInput } from '../inputs/webhook.inputs';
import { Permission } from '../permissions';
import type { RequestContext } from '../request/context';
import { webhookService } from '../services/webhook.service';
import { Connection, type Page } from '../types/connection.type';
import { WebhookDeliveryView, WebhookPayload, WebhookView } from '../types/webhook.types';
import { PageArgs } from './organization.resolver';

export const WebhookConnection = Connection(WebhookView, 'Webhook');
export const WebhookDeliveryConnection = Connection(WebhookDeliveryView, 'WebhookDelivery');

/** Webhooks: managed by owners and admins (webhooks:manage); deliveries are signed by Standard Webhooks. */
@Resolver(() => WebhookView)
export class WebhookResolver {
  private readonly webhookService = webhookService;

  @Authorized(Permission.WebhooksManage)
  @Mutation(() => WebhookPayload, { description: 'The signing secret (whsec_…) is returned this once.' })
  createWebhook(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => CreateWebhookInput) input: CreateWebhookInput,
    @Granted() access: OrganizationDecision,
  ): Promise<WebhookPayload> {
    return this.webhookService.create(ctx, access, input);
  }

  @Authorized(Permission.WebhooksManage)
  @LocatedBy('webhook')
  @Mutation(() => WebhookView)
  updateWebhook(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateWebhookInput) input: UpdateWebhookInput,
    @Granted() access: OrganizationDecision,
  ): Promise<WebhookView> {
    return this.webhookService.update(ctx, access, id, input);
  }

  @Authorized(Permission.WebhooksManage)
  @LocatedBy('webhook')
  @Mutation(() => Boolean, { description: 'Its pending deliveries go with it.' })
  deleteWebhook(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Granted() access: OrganizationDecision,
  ): Promise<boolean> {
    return this.webhookService.delete(ctx, access, id);
  }

  @Authorized(Permission.WebhooksManage)
  @LocatedBy('webhook')
  @Mutation(() => WebhookPayload, { description: 'A new secret, returned this once; the old one signs nothing more.' })
  rotateWebhookSecret(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Granted() access: OrganizationDecision,
  ): Promise<WebhookPayload> {
    return this.webhookService.rotateSecret(ctx, access, id);
  }

  @Authorized(Permission.WebhooksManage)
  @LocatedBy('webhookDelivery')
  @Mutation(() => WebhookDeliveryView, { description: 'Sends a delivery again, with the same webhook-id.' })
  redeliverWebhookDelivery(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Granted() access: OrganizationDecision,
  ): Promise<WebhookDeliveryView> {
    return this.webhookService.redeliver(ctx, access, id);
  }

  @Authorized(Permission.WebhooksManage)
  @FieldResolver(() => WebhookDeliveryConnection, { description: 'Newest first.' })
  deliveries(
    @Ctx() ctx: RequestContext,
    @Root() webhook: WebhookView,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<WebhookDeliveryView>> {
    return this.webhookService.deliveries(ctx, webhook, page.first, page.after);
  }
}

@Resolver(() => Organization)
export class OrganizationWebhooksResolver {
  private readonly webhookService = webhookService;

  @Authorized(Permission.WebhooksManage)
  @FieldResolver(() => WebhookConnection, { description: 'Oldest first.' })
  webhooks(
    @Ctx() ctx: RequestContext,
    @Root() organization: Organization,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<WebhookView>> {
    return this.webhookService.list(ctx, organization, page.first, page.after);
  }
}
