import { AUDIT_ACTIONS, diff } from '../audit/actions';
import { recordAudit } from './audit.service';
import type { OrganizationDecision } from '../auth/access';
import { prorate } from '../billing/periods';
import { BadUserInputError, ConflictError } from '../errors';
import type { ChangePlanInput } from '../inputs/billing.inputs';
import { paymentMethodRepository } from '../repositories/billing-payment-method.repository';
import { planRepository } from '../repositories/billing-plan.repository';
import { subscriptionRepository } from '../repositories/billing-subscription.repository';
import { lockLiveOrganization } from './organization-lock';
import { requireBilling } from './billing-switch';
import type { RequestContext } from '../request/context';
import { inTransaction } from '../request/transaction';
import { SubscriptionView } from '../types/billing.types';
import { addLine, periodDraft } from './billing-invoice.service';
import { countActiveProjects, currentSubscription, FREE_PLAN_CODE, planLimitError } from './billing-plan.service';
import { billingAccountRepository } from '../repositories/billing-account.repository';
import { SubscriptionStatus } from '../entities/subscription.entity';

export class SubscriptionService {
  async get(ctx: RequestContext, access: OrganizationDecision): Promise<SubscriptionView> {
    const { organization } = await access.get();
    return this.getOf(ctx, organization.id);
  }

  /** The same, for an organization the caller was let into some other way (the operator's view). */
  async getOf(ctx: RequestContext, organizationId: string): Promise<SubscriptionView> {
    const view = SubscriptionView.from(await currentSubscription(ctx.db.manager, organizationId));
    // A trial runs on the free plan with the pro plan's limits, until trialEndsAt.
    const account = await billingAccountRepository.byId(ctx.db.manager, organizationId);
    const trialing = account?.trialEndsAt && account.trialEndsAt > new Date() && view.plan.code === FREE_PLAN_CODE;
    if (trialing && view.status === SubscriptionStatus.ACTIVE) view.status = SubscriptionStatus.TRIALING;
    return view;
  }

  /**
   * Takes effect at once, in the current period. The period's draft invoice gets a line for the
   * difference in price over the rest of the period (a credit when the new plan is cheaper).
   * Changing plan also withdraws a scheduled cancellation: the organization stays, on the new plan.
   */
  async changePlan(
    ctx: RequestContext,
    access: OrganizationDecision,
    input: ChangePlanInput,
  ): Promise<SubscriptionView> {
    requireBilling(ctx);
    const { organization } = await access.get();
    const target = await planRepository.byCode(ctx.db.manager, input.planCode);
    if (!target) throw BadUserInputError.field('planCode', 'planCode must be the code of a plan (see Query.plans)');
    return inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, organization.id);
      const subscription = await currentSubscription(tx, organization.id);
      const from = subscription.plan;
      if (from.id === target.id && !subscription.cancelAtPeriodEnd) return SubscriptionView.from(subscription);
      if (from.id !== target.id) {
        if (target.priceCents > 0 && !(await paymentMethodRepository.defaultOf(tx, organization.id))) {
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
      await subscriptionRepository.update(tx, subscription.id, { planId: target.id, cancelAtPeriodEnd: false });
      await recordAudit(ctx, tx, {
        action: AUDIT_ACTIONS.changePlan,
        organizationId: organization.id,
        target: { type: 'subscription', id: subscription.id, label: target.code },
        changes: diff(
          { plan: from.code, cancelAtPeriodEnd: subscription.cancelAtPeriodEnd },
          { plan: target.code, cancelAtPeriodEnd: false },
        ),
      });
      return SubscriptionView.from({ ...subscription, plan: target, cancelAtPeriodEnd: false });
    });
  }

  /** At the end of the current period the organization moves to the free plan. Asking twice changes nothing. */
  async cancel(ctx: RequestContext, access: OrganizationDecision): Promise<SubscriptionView> {
    return this.scheduleCancellation(ctx, access, true);
  }

  /** Withdraws a scheduled cancellation; without one, changes nothing. */
  async resume(ctx: RequestContext, access: OrganizationDecision): Promise<SubscriptionView> {
    return this.scheduleCancellation(ctx, access, false);
  }

  private async scheduleCancellation(
    ctx: RequestContext,
    access: OrganizationDecision,
    cancelAtPeriodEnd: boolean,
  ): Promise<SubscriptionView> {
    requireBilling(ctx);
    const { organization } = await access.get();
    return inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, organization.id);
      const subscription = await currentSubscription(tx, organization.id);
      if (cancelAtPeriodEnd && subscription.plan.priceCents === 0) {
        throw new ConflictError(`The ${subscription.plan.name} plan costs nothing and cannot be canceled`, 'planCode');
      }
      if (subscription.cancelAtPeriodEnd !== cancelAtPeriodEnd) {
        await subscriptionRepository.update(tx, subscription.id, { cancelAtPeriodEnd });
        await recordAudit(ctx, tx, {
          action: cancelAtPeriodEnd ? AUDIT_ACTIONS.cancelSubscription : AUDIT_ACTIONS.resumeSubscription,
          organizationId: organization.id,
          target: { type: 'subscription', id: subscription.id, label: subscription.plan.code },
          changes: diff({ cancelAtPeriodEnd: !cancelAtPeriodEnd }, { cancelAtPeriodEnd }),
        });
      }
      return SubscriptionView.from({ ...subscription, cancelAtPeriodEnd });
    });
  }
}

export const subscriptionService = new SubscriptionService();
