import { organizationAccess } from '../auth/access';
import type { RequestContext } from '../request/context';
import { Permission } from '../permissions';
import { paymentProvider, type PaymentProvider } from '../billing/payment-provider';
import { inTransaction } from '../request/transaction';
import { Organization } from '../entities/organization.entity';
import { PaymentMethod } from '../entities/payment-method.entity';
import { ConflictError, NotFoundError } from '../errors';
import type { AddPaymentMethodInput } from '../inputs/billing.inputs';
import { assertUuid } from '../inputs/ids';
import { PaymentMethodView, type Billing } from '../types/billing.types';
import { currentSubscription } from './billing-plan.service';
import { lockOrganization } from '../repositories/organization.repository';

export class PaymentMethodService {
  constructor(private readonly provider: PaymentProvider) {}

  /** The default first, then the oldest first. */
  async list(ctx: RequestContext, billing: Billing): Promise<PaymentMethodView[]> {
    await organizationAccess(ctx, { id: billing.organizationId }, Permission.BillingRead);
    const methods = await ctx.db.getRepository(PaymentMethod).find({
      where: { organizationId: billing.organizationId },
      order: { isDefault: 'DESC', createdAt: 'ASC', id: 'ASC' },
    });
    return methods.map((method) => PaymentMethodView.from(method));
  }

  /**
   * Attaches the card behind a provider token. The first payment method of an organization
   * becomes its default whatever `makeDefault` says: a paid plan needs one.
   */
  async add(ctx: RequestContext, input: AddPaymentMethodInput): Promise<PaymentMethodView> {
    const { organization } = await organizationAccess(ctx, { slug: input.organizationSlug }, Permission.BillingManage);
    return inTransaction(ctx, async (tx) => {
      await lockOrganization(tx, organization.id);
      const { paymentCustomerRef } = await tx.findOneByOrFail(Organization, { id: organization.id });
      const { customerRef, card } = await this.provider.attachPaymentMethod({
        customerRef: paymentCustomerRef,
        token: input.token,
      });
      if (customerRef !== paymentCustomerRef) {
        await tx.update(Organization, { id: organization.id }, { paymentCustomerRef: customerRef });
      }
      const hasDefault = await tx.existsBy(PaymentMethod, { organizationId: organization.id, isDefault: true });
      if (hasDefault && input.makeDefault) {
        await tx.update(PaymentMethod, { organizationId: organization.id, isDefault: true }, { isDefault: false });
      }
      const method = await tx.save(
        tx.create(PaymentMethod, {
          organizationId: organization.id,
          provider: this.provider.name,
          providerRef: card.providerRef,
          brand: card.brand,
          last4: card.last4,
          expMonth: card.expMonth,
          expYear: card.expYear,
          isDefault: input.makeDefault || !hasDefault,
        }),
      );
      return PaymentMethodView.from(method);
    });
  }

  async setDefault(ctx: RequestContext, organizationSlug: string, id: string): Promise<PaymentMethodView> {
    const { organization } = await organizationAccess(ctx, { slug: organizationSlug }, Permission.BillingManage);
    assertUuid('id', id);
    return inTransaction(ctx, async (tx) => {
      await lockOrganization(tx, organization.id);
      const method = await tx.findOneBy(PaymentMethod, { id, organizationId: organization.id });
      if (!method) throw new NotFoundError('Payment method');
      if (!method.isDefault) {
        await tx.update(PaymentMethod, { organizationId: organization.id, isDefault: true }, { isDefault: false });
        await tx.update(PaymentMethod, { id: method.id }, { isDefault: true });
      }
      return PaymentMethodView.from(await tx.findOneByOrFail(PaymentMethod, { id: method.id }));
    });
  }

  /** The default payment method stays while a paid plan is active: it pays for it. */
  async remove(ctx: RequestContext, organizationSlug: string, id: string): Promise<boolean> {
    const { organization } = await organizationAccess(ctx, { slug: organizationSlug }, Permission.BillingManage);
    assertUuid('id', id);
    await inTransaction(ctx, async (tx) => {
      await lockOrganization(tx, organization.id);
      const method = await tx.findOneBy(PaymentMethod, { id, organizationId: organization.id });
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
      await tx.delete(PaymentMethod, { id: method.id });
    });
    return true;
  }
}

export const paymentMethodService = new PaymentMethodService(paymentProvider);
