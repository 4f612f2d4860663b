import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DeliveryStatus, type DeliveryRow, type WebhookRow } from '../repositories/webhook.repository';

registerEnumType(DeliveryStatus, { name: 'WebhookDeliveryStatus' });

@ObjectType('Webhook', {
  simpleResolvers: true,
  description: 'Where an organization’s audit events are POSTed, signed.',
})
export class WebhookView {
  @Field(() => ID)
  id: string;

  /** Its guard locates the organization through it. */
  organizationId: string;

  @Field()
  url: string;

  @Field(() => [String], { description: 'Audit action names or prefixes (project.*, or * for all).' })
  events: string[];

  @Field({ description: 'False once disabled, by an admin or after WEBHOOK_DISABLE_AFTER_FAILURES failed deliveries.' })
  enabled: boolean;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field(() => Int, { description: 'Failed deliveries in a row.' })
  consecutiveFailures: number;

  @Field(() => Date, { nullable: true })
  disabledAt: Date | null;

  @Field()
  createdAt: Date;

  static from(row: WebhookRow): WebhookView {
    return Object.assign(new WebhookView(), {
      id: row.id,
      organizationId: row.organizationId,
      url: row.url,
      events: row.events,
      enabled: row.enabled,
      description: row.description,
      consecutiveFailures: row.consecutiveFailures,
      disabledAt: row.disabledAt,
      createdAt: row.createdAt,
    });
  }
}

@ObjectType({ simpleResolvers: true })
export class WebhookPayload {
  @Field(() => WebhookView)
  webhook: WebhookView;

  @Field({ description: 'The signing secret (whsec_…), shown this once: verify deliveries with it.' })
  secret: string;
}

@ObjectType('WebhookDelivery', { simpleResolvers: true, description: 'One audit event on its way to one webhook.' })
export class WebhookDeliveryView {
  @Field(() => ID, { description: 'Also the webhook-id header: the same on every retry.' })
  id: string;

  @Field(() => ID)
  eventId: string;

  @Field()
  action: string;

  @Field(() => DeliveryStatus)
  status: DeliveryStatus;

  @Field(() => Int)
  attempts: number;

  @Field(() => Int, { nullable: true })
  lastResponseStatus: number | null;

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed, when it did.' })
  lastError: string | null;

  @Field(() => Date, { nullable: true })
  nextAttemptAt: Date | null;

  @Field(() => Date, { nullable: true })
  deliveredAt: Date | null;

  @Field()
  createdAt: Date;

  static from(row: DeliveryRow): WebhookDeliveryView {
    return Object.assign(new WebhookDeliveryView(), row);
  }
}
