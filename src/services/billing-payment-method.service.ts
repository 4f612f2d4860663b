import { AUDIT_ACTIONS, diff, type AuditAction } from '../audit/actions';
import { recordAudit } from './audit.service';
import type { OrganizationDecision } from '../auth/access';
import { paymentMethodCursor } from '../billing/page-cursors';
import { paymentProvider, type PaymentProvider } from '../billing/payment-provider';
import { ConflictError, NotFoundError } from '../errors';
import { pageRequest } from '../graphql/pagination';
import type { AddPaymentMethodInput } from '../inputs/billing.inputs';
import { assertUuid } from '../inputs/ids';
import { billingAccountRepository } from '../repositories/billing-account.repository';
import { paymentMethodRepository } from '../repositories/billing-payment-method.repository';
import { lockLiveOrganization } from './organization-lock';
import { requireBilling } from './billing-switch';
import type { RequestContext } from '../request/context';
import { inTransaction } from '../request/transaction';
import { PaymentMethodView } from '../types/billing.types';
import type { Page } from '../types/connection.type';
import { currentSubscription } from './billing-plan.service';

/**
 * An organization pays with a handful of cards: 20 is room for all of them, and keeps the whole
 * list within one page of the default size.
 */
export const MAX_PAYMENT_METHODS = 20;

export class PaymentMethodService {
  constructor(private readonly provider: PaymentProvider) {}

  /** The default first, then the oldest first. */
  async list(
    ctx: RequestContext,
    access: OrganizationDecision,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<PaymentMethodView>> {
    const { organization } = await access.get();
    return this.listOf(ctx, organization.id, first, after);
  }

  /** The same, for an organization the caller was let into some other way (the operator's view). */
  async listOf(
    ctx: RequestContext,
    organizationId: string,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<PaymentMethodView>> {
    const organization = { id: organizationId };
    const { limit } = pageRequest(ctx, first, null);
    const position = after ? paymentMethodCursor.decode(after) : null;
    const { rows, totalCount } = await paymentMethodRepository.page(
      ctx.db.manager,
      organization.id,
      limit + 1,
      position,
    );
    const nodes = rows.slice(0, limit);
    const last = nodes.at(-1);
    return {
      nodes: nodes.map((method) => PaymentMethodView.from(method)),
      totalCount,
      pageInfo: { hasNextPage: rows.length > limit, endCursor: last ? paymentMethodCursor.encode(last) : null },
    };
  }

  /**
   * Attaches the card behind a provider token. The first payment method of an organization
   * becomes its default whatever `makeDefault` says: a paid plan needs one.
   */
  async add(
    ctx: RequestContext,
    access: OrganizationDecision,
    input: AddPaymentMethodInput,
  ): Promise<PaymentMethodView> {
    requireBilling(ctx);
    const { organization } = await access.get();
    return inTransaction(
      ctx,
      async (tx) => {
        // Under the lock, concurrent additions count one after another: none goes past the cap.
        await lockLiveOrganization(tx, organization.id, undefined, { settles: true });
        const account = await billingAccountRepository.byId(tx, organization.id);
        if (!account) throw new NotFoundError('Organization');
        // Before the provider hears of the card: a refused addition leaves nothing behind, there either.
        if ((await paymentMethodRepository.count(tx, organization.id)) >= MAX_PAYMENT_METHODS) {
          throw new ConflictError(
            `An organization keeps at most ${MAX_PAYMENT_METHODS} payment methods: remove one before adding another`,
            'organizationSlug',
          );
        }
        const { customerRef, card } = await this.provider.attachPaymentMethod({
          customerRef: account.paymentCustomerRef,
          token: input.token,
        });
        if (customerRef !== account.paymentCustomerRef) {
          await billingAccountRepository.setCustomerRef(tx, organization.id, customerRef);
        }
        const hasDefault = (await paymentMethodRepository.defaultOf(tx, organization.id)) !== null;
        if (hasDefault && input.makeDefault) await paymentMethodRepository.clearDefault(tx, organization.id);
        const method = await paymentMethodRepository.insert(tx, {
          organizationId: organization.id,
          provider: this.provider.name,
          providerRef: card.providerRef,
          brand: card.brand,
          last4: card.last4,
          expMonth: card.expMonth,
          expYear: card.expYear,
          isDefault: input.makeDefault || !hasDefault,
        });
        await recordAudit(ctx, tx, {
          ...methodEvent(AUDIT_ACTIONS.addPaymentMethod, organization.id, method),
          changes: diff(null, { brand: method.brand, last4: method.last4, isDefault: method.isDefault }),
        });
        return PaymentMethodView.from(method);
        // The provider is called inside: run again after a deadlock, it would attach the card twice.
      },
      { retry: false },
    );
  }

  async setDefault(ctx: RequestContext, access: OrganizationDecision, id: string): Promise<PaymentMethodView> {
    requireBilling(ctx);
    const { organization } = await access.get();
    assertUuid('id', id);
    return inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, organization.id, undefined, { settles: true });
      // Gone with its organization too, when that was deleted while this request waited for the lock.
      const method = await paymentMethodRepository.byId(tx, organization.id, id);
      if (!method) throw new NotFoundError('Payment method');
      if (!method.isDefault) {
        await paymentMethodRepository.makeDefault(tx, organization.id, method.id);
        await recordAudit(ctx, tx, {
          ...methodEvent(AUDIT_ACTIONS.setDefaultPaymentMethod, organization.id, method),
          changes: diff({ isDefault: false }, { isDefault: true }),
        });
      }
      return PaymentMethodView.from({ ...method, isDefault: true });
    });
  }

  /** The default payment method stays while a paid plan is active: it pays for it. */
  async remove(ctx: RequestContext, access: OrganizationDecision, id: string): Promise<boolean> {
    requireBilling(ctx);
    const { organization } = await access.get();
    assertUuid('id', id);
    await inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, organization.id);
      const method = await paymentMethodRepository.byId(tx, organization.id, id);
      if (!method) throw new NotFoundError('Payment method');
      if (method.isDefault) {
        const { plan } = await currentSubscription(tx, organization.id);
        if (plan.priceCents > 0) {
          throw new ConflictError(
            `The default payment method pays for the ${plan.name} plan: make another one the default, or change to the free plan, first`,
            'id',
          );
        }
      }
      await paymentMethodRepository.delete(tx, method.id);
      await recordAudit(ctx, tx, methodEvent(AUDIT_ACTIONS.removePaymentMethod, organization.id, method));
    });
    return true;
  }
}

function methodEvent(
  action: AuditAction,
  organizationId: string,
  method: { id: string; brand: string; last4: string },
) {
  return {
    action,
    organizationId,
    target: { type: 'payment_method', id: method.id, label: `${method.brand} ${method.last4}` },
  };
}

export const paymentMethodService = new PaymentMethodService(paymentProvider);
