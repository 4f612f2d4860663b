import { In, Not, type EntityManager } from 'typeorm';
import type { RequestContext } from '../request/context';
import { periodEndAfter } from '../billing/periods';
import { Plan } from '../entities/plan.entity';
import { Project, ProjectStatus } from '../entities/project.entity';
import { Subscription, SubscriptionStatus } from '../entities/subscription.entity';
import { PlanLimitReachedError } from '../errors';
import { PlanView } from '../types/billing.types';

export const FREE_PLAN_CODE = 'free';

/** Paused (and removed) projects do not count against a plan's limit; every other status does. */
export const INACTIVE_PROJECT_STATUSES = [ProjectStatus.PAUSED, ProjectStatus.REMOVED];

export type CurrentSubscription = Subscription & { plan: Plan };

/** The plan catalog, and what a plan allows. */
export class PlanService {
  /** Cheapest first. */
  async list(ctx: RequestContext): Promise<PlanView[]> {
    const plans = await ctx.db.getRepository(Plan).find({ order: { priceCents: 'ASC', code: 'ASC' } });
    return plans.map((plan) => PlanView.from(plan));
  }
}

/** An organization always has one current subscription (from its creation, on free). */
export async function currentSubscription(db: EntityManager, organizationId: string): Promise<CurrentSubscription> {
  const subscription = await db.findOne(Subscription, {
    where: { organizationId, status: Not(SubscriptionStatus.CANCELED) },
    relations: { plan: true },
  });
  if (!subscription?.plan) throw new Error(`Organization ${organizationId} has no current subscription`);
  return subscription as CurrentSubscription;
}

/** A free subscription from `start` to the end of its calendar month. */
export async function startFreeSubscription(tx: EntityManager, organizationId: string, start: Date): Promise<void> {
  const free = await tx.findOneByOrFail(Plan, { code: FREE_PLAN_CODE });
  await tx.insert(Subscription, {
    organizationId,
    planId: free.id,
    status: SubscriptionStatus.ACTIVE,
    currentPeriodStart: start,
    currentPeriodEnd: periodEndAfter(start),
    cancelAtPeriodEnd: false,
    canceledAt: null,
  });
}

export function countActiveProjects(db: EntityManager, organizationId: string): Promise<number> {
  return db.countBy(Project, { organizationId, status: Not(In(INACTIVE_PROJECT_STATUSES)) });
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
export async function assertWithinProjectLimit(tx: EntityManager, organizationId: string): Promise<void> {
  const { plan } = await currentSubscription(tx, organizationId);
  if (plan.maxProjects === null) return;
  const active = await countActiveProjects(tx, organizationId);
  if (active > plan.maxProjects) throw planLimitError(plan, active - 1);
}

export const planService = new PlanService();
