import type { EntityManager } from 'typeorm';
import type { RequestContext } from '../request/context';
import { periodEndAfter } from '../billing/periods';
import type { Plan } from '../entities/plan.entity';
import { SubscriptionStatus } from '../entities/subscription.entity';
import { NotFoundError, PlanLimitReachedError } from '../errors';
import { billingAccountRepository } from '../repositories/billing-account.repository';
import { planRepository } from '../repositories/billing-plan.repository';
import { subscriptionRepository, type CurrentSubscription } from '../repositories/billing-subscription.repository';
import { INACTIVE_PROJECT_STATUSES, projectRepository } from '../repositories/project.repository';
import { PlanView } from '../types/billing.types';

export type { CurrentSubscription } from '../repositories/billing-subscription.repository';

export const FREE_PLAN_CODE = 'free';

/** A trial (TRIAL_DAYS) gives this plan's limits. */
export const TRIAL_PLAN_CODE = 'pro';

export { INACTIVE_PROJECT_STATUSES };

/** The plan catalog, and what a plan allows. */
export class PlanService {
  /** Cheapest first. */
  async list(ctx: RequestContext): Promise<PlanView[]> {
    // An installation that never bills has no catalog to show.
    if (!ctx.config.jobs.billing.enabled) return [];
    const plans = await planRepository.all(ctx.db.manager);
    return plans.map((plan) => PlanView.from(plan));
  }
}

/**
 * An organization always has one current subscription (from its creation, on free): without one,
 * the organization is gone (deleted while the request ran), which is NOT_FOUND.
 */
export async function currentSubscription(db: EntityManager, organizationId: string): Promise<CurrentSubscription> {
  const subscription = await subscriptionRepository.current(db, organizationId);
  if (subscription) return subscription;
  if (!(await billingAccountRepository.byId(db, organizationId))) throw new NotFoundError('Organization');
  throw new Error(`Organization ${organizationId} has no current subscription`);
}

/** A free subscription from `start` to the end of its calendar month. */
export async function startFreeSubscription(tx: EntityManager, organizationId: string, start: Date): Promise<void> {
  const free = await planRepository.byCode(tx, FREE_PLAN_CODE);
  if (!free) throw new Error(`The plan catalog has no "${FREE_PLAN_CODE}" plan`);
  await subscriptionRepository.insert(tx, {
    organizationId,
    planId: free.id,
    status: SubscriptionStatus.ACTIVE,
    currentPeriodStart: start,
    currentPeriodEnd: periodEndAfter(start),
  });
}

export function countActiveProjects(db: EntityManager, organizationId: string): Promise<number> {
  return projectRepository.countActive(db, organizationId);
}

export function planLimitError(plan: Plan, activeProjects: number): PlanLimitReachedError {
  return new PlanLimitReachedError(
    `The ${plan.name} plan allows ${plan.maxProjects} active projects and this organization has ${activeProjects}: ` +
      'pause or delete a project, or change to a larger plan',
    { plan: plan.code, maxProjects: plan.maxProjects, activeProjects },
  );
}

/**
 * Called right after a project became active (created or restored) in the transaction: refuses it,
 * and so rolls it back, beyond the plan's limit. The caller took the organization's lock
 * (lockOrganization) before the write, so concurrent creations and restorations count one after another.
 */
export async function assertWithinProjectLimit(
  ctx: RequestContext,
  tx: EntityManager,
  organizationId: string,
): Promise<void> {
  if (!ctx.config.jobs.billing.enabled) return;
  const plan = await limitingPlan(tx, organizationId);
  if (plan.maxProjects === null) return;
  const active = await countActiveProjects(tx, organizationId);
  if (active > plan.maxProjects) throw planLimitError(plan, active - 1);
}

/** The plan whose limits hold: the current one, or the trial's (pro) while a trial runs on the free plan. */
async function limitingPlan(tx: EntityManager, organizationId: string): Promise<Plan> {
  const { plan } = await currentSubscription(tx, organizationId);
  if (plan.code !== FREE_PLAN_CODE) return plan;
  const account = await billingAccountRepository.byId(tx, organizationId);
  if (!account?.trialEndsAt || account.trialEndsAt <= new Date()) return plan;
  return (await planRepository.byCode(tx, TRIAL_PLAN_CODE)) ?? plan;
}

export const planService = new PlanService();
