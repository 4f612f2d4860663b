import type { DataSource, EntityManager } from 'typeorm';
import { prorate } from '../billing/periods';
import { runTransaction } from '../database/transaction';
import type { Plan } from '../entities/plan.entity';
import { BadUserInputError } from '../errors';
import { paymentMethodRepository } from '../repositories/billing-payment-method.repository';
import { planRepository } from '../repositories/billing-plan.repository';
import { subscriptionRepository } from '../repositories/billing-subscription.repository';
import { lockOrganization } from '../repositories/organization.repository';
import { addLine, periodDraft } from './billing-invoice.service';
import { currentSubscription, FREE_PLAN_CODE, type CurrentSubscription } from './billing-plan.service';

/**
 * Gives the organization `plan` without a payment method until `until`. What the current period
 * drafted so far stays on its invoice; from now, nothing more is charged for the plan. A second
 * gift replaces the first and keeps the plan to go back to. The caller holds the organization's lock.
 */
export async function giveComplimentaryPlan(
  tx: EntityManager,
  organizationId: string,
  planCode: string,
  until: Date,
): Promise<void> {
  if (!(until.getTime() > Date.now())) throw BadUserInputError.field('until', 'until must be in the future');
  const plan = await planRepository.byCode(tx, planCode);
  if (!plan) throw BadUserInputError.field('plan', 'plan must be the code of a plan (see Query.plans)');
  const subscription = await currentSubscription(tx, organizationId);
  const returnTo = subscription.planAfterComplimentaryId ?? subscription.planId;
  await subscriptionRepository.update(tx, subscription.id, {
    planId: plan.id,
    complimentaryUntil: until,
    planAfterComplimentaryId: returnTo,
    cancelAtPeriodEnd: false,
  });
}

/**
 * The plan a complimentary one gives way to: the one before it, or free when that one is paid and
 * nothing pays for it (no default payment method).
 */
async function planAfter(tx: EntityManager, subscription: CurrentSubscription): Promise<Plan> {
  const before = subscription.planAfterComplimentaryId
    ? await planRepository.byId(tx, subscription.planAfterComplimentaryId)
    : null;
  const free = await planRepository.byCode(tx, FREE_PLAN_CODE);
  if (!free) throw new Error(`The plan catalog has no "${FREE_PLAN_CODE}" plan`);
  if (!before || before.priceCents === 0) return before ?? free;
  return (await paymentMethodRepository.defaultOf(tx, subscription.organizationId)) ? before : free;
}

/** Ends one organization's complimentary plan, if it ended by `asOf`; the rest of the period is billed pro rata. */
async function endComplimentary(tx: EntityManager, organizationId: string, asOf: Date): Promise<boolean> {
  if (!(await lockOrganization(tx, organizationId, { deleted: true }))) return false;
  const subscription = await currentSubscription(tx, organizationId);
  if (!subscription.complimentaryUntil || subscription.complimentaryUntil > asOf) return false;
  const next = await planAfter(tx, subscription);
  // The period's draft, opened without a charge for the plan, then the plan's price from now on.
  const draft = await periodDraft(tx, subscription, { ...subscription.plan, priceCents: 0 });
  const end = subscription.currentPeriodEnd;
  const from = asOf > subscription.currentPeriodStart ? asOf : subscription.currentPeriodStart;
  const amountCents = prorate(
    next.priceCents,
    end.getTime() - from.getTime(),
    end.getTime() - subscription.currentPeriodStart.getTime(),
  );
  if (amountCents > 0) {
    await addLine(tx, draft, {
      description: `${next.name} plan, for the rest of the period`,
      amountCents,
      periodStart: from,
      periodEnd: end,
    });
  }
  await subscriptionRepository.update(tx, subscription.id, {
    planId: next.id,
    complimentaryUntil: null,
    planAfterComplimentaryId: null,
  });
  return true;
}

/** The scheduled part: complimentary plans that ended by `asOf` give way to the plan after them. */
export async function endComplimentaryPlans(db: DataSource, asOf: Date): Promise<number> {
  let ended = 0;
  for (const organizationId of await subscriptionRepository.complimentaryEndedBy(db.manager, asOf)) {
    if (await runTransaction(db, (tx) => endComplimentary(tx, organizationId, asOf))) ended += 1;
  }
  return ended;
}
