import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AUDIT_ACTIONS, diff, type AuditAction } from '../audit/actions';
import type { OrganizationDecision } from '../auth/access';
import { seal } from '../crypto/secret-box';
import type { Organization } from '../entities/organization.entity';
import { BadUserInputError, ConflictError, NotFoundError } from '../errors';
import { pageRequest, toPage } from '../graphql/pagination';
import { assertUuid } from '../inputs/ids';
import type { CreateWebhookInput, UpdateWebhookInput } from '../inputs/webhook.inputs';
import { webhookRepository, type WebhookChanges, type WebhookRow } from '../repositories/webhook.repository';
import type { RequestContext } from '../request/context';
import { JOB } from '../request/jobs';
import { inTransaction } from '../request/transaction';
import { checkWebhookTarget, WebhookTargetError } from '../security/webhook-target';
import type { Page } from '../types/connection.type';
import { WebhookDeliveryView, WebhookView, type WebhookPayload } from '../types/webhook.types';
import { recordAudit } from './audit.service';
import { lockLiveOrganization } from './organization-lock';

/** A Standard Webhooks secret: whsec_ and 32 random bytes in base64. */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The URL's scheme and address rules, checked now (and again before every delivery). */
async function checkedUrl(ctx: RequestContext, url: string): Promise<string> {
  try {
    return (await checkWebhookTarget(url.trim(), ctx.config.jobs.webhooks)).url.toString();
  } catch (error) {
    if (error instanceof WebhookTargetError) throw BadUserInputError.field('url', error.message);
    throw error;
  }
}

/** The organization's lock, then the webhook locked: NOT_FOUND when it is gone. */
async function lockedWebhook(tx: EntityManager, organization: Organization, id: string): Promise<WebhookRow> {
  await lockLiveOrganization(tx, organization.id, () => new NotFoundError('Webhook'));
  const webhook = await webhookRepository.forUpdate(tx, id);
  if (webhook?.organizationId !== organization.id) throw new NotFoundError('Webhook');
  return webhook;
}

function webhookEvent(action: AuditAction, webhook: WebhookRow) {
  return {
    action,
    organizationId: webhook.organizationId,
    target: { type: 'webhook', id: webhook.id, label: webhook.url },
  };
}

const SHOWN = ['url', 'events', 'description', 'enabled'] as const;

function shown(webhook: WebhookRow): Record<string, unknown> {
  return Object.fromEntries(SHOWN.map((field) => [field, webhook[field]]));
}

/** Webhooks per organization, at most. */
export const MAX_WEBHOOKS = 20;

export class WebhookService {
  /** The secret is in the answer this once; it is stored sealed, since it signs every delivery. */
  async create(ctx: RequestContext, access: OrganizationDecision, input: CreateWebhookInput): Promise<WebhookPayload> {
    const { organization } = await access.get();
    const url = await checkedUrl(ctx, input.url);
    const secret = newSecret();
    const webhook = await inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, organization.id, () => new NotFoundError('Organization', organization.slug));
      // Each event becomes a delivery per matching webhook, in the change's transaction: bounded.
      if ((await webhookRepository.count(tx, organization.id)) >= MAX_WEBHOOKS) {
        throw new ConflictError(
          `An organization keeps at most ${MAX_WEBHOOKS} webhooks: delete one before adding another`,
          'organizationSlug',
        );
      }
      const created = await webhookRepository.insert(tx, {
        organizationId: organization.id,
        url,
        events: [...new Set(input.events)],
        description: input.description?.trim() || null,
        secret: seal(ctx.config.encryptionKey, secret),
      });
      await recordAudit(ctx, tx, {
        ...webhookEvent(AUDIT_ACTIONS.createWebhook, created),
        changes: diff(null, { ...shown(created), secret: 1 }, ['secret']),
      });
      return created;
    });
    return { webhook: WebhookView.from(webhook), secret };
  }

  async update(
    ctx: RequestContext,
    access: OrganizationDecision,
    id: string,
    input: UpdateWebhookInput,
  ): Promise<WebhookView> {
    assertUuid('id', id);
    const { organization } = await access.get();
    const changes: WebhookChanges = {};
    if (input.url != null) changes.url = await checkedUrl(ctx, input.url);
    if (input.events != null) changes.events = [...new Set(input.events)];
    if (input.description !== undefined) changes.description = input.description?.trim() || null;
    if (input.enabled != null) changes.enabled = input.enabled;
    const updated = await inTransaction(ctx, async (tx) => {
      const before = await lockedWebhook(tx, organization, id);
      const after = await webhookRepository.update(tx, id, changes);
      await recordAudit(ctx, tx, {
        ...webhookEvent(AUDIT_ACTIONS.updateWebhook, after),
        changes: diff(shown(before), shown(after)),
      });
      return after;
    });
    return WebhookView.from(updated);
  }

  async delete(ctx: RequestContext, access: OrganizationDecision, id: string): Promise<boolean> {
    assertUuid('id', id);
    const { organization } = await access.get();
    await inTransaction(ctx, async (tx) => {
      const webhook = await lockedWebhook(tx, organization, id);
      await recordAudit(ctx, tx, {
        ...webhookEvent(AUDIT_ACTIONS.deleteWebhook, webhook),
        changes: diff(shown(webhook), null),
      });
      await webhookRepository.delete(tx, id);
    });
    return true;
  }

  /** A new secret, returned this once; deliveries from now on are signed with it. */
  async rotateSecret(ctx: RequestContext, access: OrganizationDecision, id: string): Promise<WebhookPayload> {
    assertUuid('id', id);
    const { organization } = await access.get();
    const secret = newSecret();
    const webhook = await inTransaction(ctx, async (tx) => {
      const locked = await lockedWebhook(tx, organization, id);
      await webhookRepository.setSecret(tx, id, seal(ctx.config.encryptionKey, secret));
      await recordAudit(ctx, tx, {
        ...webhookEvent(AUDIT_ACTIONS.rotateWebhookSecret, locked),
        changes: diff({ secret: 1 }, { secret: 2 }, ['secret']),
      });
      return locked;
    });
    return { webhook: WebhookView.from(webhook), secret };
  }

  /** Sends a delivery again (a failed one, or one the receiver lost), with the same webhook-id. */
  async redeliver(ctx: RequestContext, access: OrganizationDecision, id: string): Promise<WebhookDeliveryView> {
    assertUuid('id', id);
    const { organization } = await access.get();
    const delivery = await inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, organization.id, () => new NotFoundError('Webhook delivery'));
      const found = await webhookRepository.deliveryForUpdate(tx, id);
      if (found?.webhook.organizationId !== organization.id) throw new NotFoundError('Webhook delivery');
      const again = await webhookRepository.redeliver(tx, id);
      await ctx.jobs.enqueue(
        tx,
        JOB.webhookDelivery,
        { deliveryId: id, requestId: ctx.scope.requestId },
        { singletonKey: id },
      );
      await recordAudit(ctx, tx, {
        action: AUDIT_ACTIONS.redeliverWebhookDelivery,
        organizationId: organization.id,
        target: { type: 'webhook_delivery', id, label: again.action },
        changes: diff({ status: found.delivery.status }, { status: again.status }),
      });
      return again;
    });
    ctx.jobs.nudge(JOB.webhookDelivery);
    return WebhookDeliveryView.from(delivery);
  }

  async list(
    ctx: RequestContext,
    organization: Organization,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<WebhookView>> {
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await webhookRepository.ofOrganization(ctx.db, organization.id, window);
    return toPage(
      rows.map((row) => WebhookView.from(row)),
      window.limit,
      totalCount,
    );
  }

  /** Newest first. */
  async deliveries(
    ctx: RequestContext,
    webhook: WebhookView,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<WebhookDeliveryView>> {
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await webhookRepository.deliveries(ctx.db, webhook.id, window);
    return toPage(
      rows.map((row) => WebhookDeliveryView.from(row)),
      window.limit,
      totalCount,
    );
  }
}

export const webhookService = new WebhookService();
