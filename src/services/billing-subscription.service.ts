import { organizationAccess } from '../auth/access';
import type { RequestContext } from '../request/context';
import { Permission } from '../permissions';
import { prorate } from '../billing/periods';
import { inTransaction } from '../request/transaction';
import { PaymentMethod } from '../entities/payment-method.entity';
import { Plan } from '../entities/plan.entity';
import { Subscription } from '../entities/subscription.entity';
import { BadUserInputError, ConflictError } from '../errors';
import type { ChangePlanInput } from '../inputs/billing.inputs';
import { SubscriptionView, type Billing } from '../types/billing.types';
import { addLine, periodDraft } from './billing-invoice.service';
import { countActiveProjects, currentSubscription, planLimitError } from './billing-plan.service';
import { lockOrganization } from '../repositories/organization.repository';

export class SubscriptionService {
  async get(ctx: RequestContext, billing: Billing): Promise<SubscriptionView> {
    await organizationAccess(ctx, { id: billing.organizationId }, Permission.BillingRead);
    return SubscriptionView.from(await currentSubscription(ctx.db.manager, billing.organizationId));
  }

  /**
   * Takes effect at once, in the current period. The period's draft invoice gets a line for the
   * difference in price over the rest of the period (a credit when the new plan is cheaper).
   * Changing plan also withdraws a scheduled cancellation: the organization stays, on the new plan.
   */
  async changePlan(ctx: RequestContext, input: ChangePlanInput): Promise<SubscriptionView> {
    const { organization } = await organizationAccess(ctx, { slug: input.organizationSlug }, Permission.BillingManage);
    const target = await ctx.db.getRepository(Plan).findOneBy({ code: input.planCode });
    if (!target) throw BadUserInputError.field('planCode', 'planCode must be the code of a plan (see Query.plans)');
    return inTransaction(ctx, async (tx) => {
      await lockOrganization(tx, organization.id);
      const subscription = await currentSubscription(tx, organization.id);
      const from = subscription.plan;
      if (from.id === target.id && !subscription.cancelAtPeriodEnd) return SubscriptionView.from(subscription);
      if (from.id !== target.id) {
        if (
          target.priceCents > 0 &&
          !(await tx.existsBy(PaymentMethod, { organizationId: organization.id, isDefault: true }))
        ) {
          throw BadUserInputError.field(
            'planCode',
            `The ${target.name} plan is paid: add a payment method (it becomes the default) before changing to it`,
          );
        }
        if (target.currency !== from.currency) {
          throw BadUserInputError.field('planCode', `The ${target.name} plan is billed in another currency`);
        }
        if (target.maxProjects !== null) {
          const active = await countActiveProjects(tx, organization.id);
          if (active > target.maxProjects) throw planLimitError(target, active);
        }
        const now = new Date();
        const start = subscription.currentPeriodStart;
        const end = subscription.currentPeriodEnd;
        const draft = await periodDraft(tx, subscription, from);
        const amountCents = prorate(
          target.priceCents - from.priceCents,
          end.getTime() - now.getTime(),
          end.getTime() - start.getTime(),
        );
        if (amountCents !== 0) {
          await addLine(tx, draft, {
            description: `Change from ${from.name} to ${target.name}, for the rest of the period`,
            amountCents,
            periodStart: now < start ? start : now,
            periodEnd: end,
          });
        }
      }
      await tx.update(Subscription, { id: subscription.id }, { planId: target.id, cancelAtPeriodEnd: false });
      return SubscriptionView.from(await currentSubscription(tx, organization.id));
    });
  }

  /** At the end of the current period the organization moves to the free plan. Asking twice changes nothing. */
  async cancel(ctx: RequestContext, organizationSlug: string): Promise<SubscriptionView> {
    const { organization } = await organizationAccess(ctx, { slug: organizationSlug }, Permission.BillingManage);
    return inTransaction(ctx, async (tx) => {
      await lockOrganization(tx, organization.id);
      const subscription = await currentSubscription(tx, organization.id);
      if (subscription.plan.priceCents === 0) {
        throw new ConflictError(`The ${subscription.plan.name} plan costs nothing and cannot be canceled`, 'planCode');
      }
      if (subscription.cancelAtPeriodEnd) return SubscriptionView.from(subscription);
      await tx.update(Subscription, { id: subscription.id }, { cancelAtPeriodEnd: true });
      return SubscriptionView.from(await currentSubscription(tx, organization.id));
    });
  }

  /** Withdraws a scheduled cancellation; without one, changes nothing. */
  async resume(ctx: RequestContext, organizationSlug: string): Promise<SubscriptionView> {
    const { organization } = await organizationAccess(ctx, { slug: organizationSlug }, Permission.BillingManage);
    return inTransaction(ctx, async (tx) => {
      await lockOrganization(tx, organization.id);
      const subscription = await currentSubscription(tx, organization.id);
      if (!subscription.cancelAtPeriodEnd) return SubscriptionView.from(subscription);
      await tx.update(Subscription, { id: subscription.id }, { cancelAtPeriodEnd: false });
      return SubscriptionView.from(await currentSubscription(tx, organization.id));
    });
  }
}

export const subscriptionService = new SubscriptionService();
