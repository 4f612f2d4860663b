import type { OrganizationDecision } from '../auth/access';
import { type Organization } from '../entities/organization.entity';
import { OrganizationRole } from '../entities/user-role.entity';
import { ConflictError, NotFoundError } from '../errors';
import { pageRequest, toPage } from '../graphql/pagination';
import type { CreateOrganizationInput, UpdateOrganizationInput } from '../inputs/organization.inputs';
import { permissionsOfRole } from '../permissions';
import { membershipRepository } from '../repositories/membership.repository';
import type { OrganizationDetails } from '../repositories/organization-details';
import { organizationRepository } from '../repositories/organization.repository';
import { requireUser, requireViewer, type RequestContext } from '../request/context';
import { assertVerifiedEmail } from './account.service';
import { inTransaction } from '../request/transaction';
import type { Page } from '../types/connection.type';
import { startFreeSubscription } from './billing-plan.service';
import { lockLiveOrganization } from './organization-lock';
import { graceStart } from './deletion-grace';
import { slugify, withSuffix } from './slug';
import { AUDIT_ACTIONS, diff } from '../audit/actions';
import { recordAudit } from './audit.service';

const DAY_MS = 24 * 3600 * 1000;

/** TRIAL_DAYS: when a new organization's trial ends; null without trials (or without billing). */
function trialEnd(ctx: RequestContext): Date | null {
  const { enabled, trialDays } = ctx.config.jobs.billing;
  return enabled && trialDays > 0 ? new Date(Date.now() + trialDays * DAY_MS) : null;
}

export class OrganizationService {
  /** The caller becomes the owner, on the free plan. A generated slug that is taken gets a random suffix; a chosen one is a CONFLICT. */
  async create(ctx: RequestContext, input: CreateOrganizationInput): Promise<Organization> {
    const userId = requireUser(ctx, 'A service account belongs to its one organization: it cannot create another');
    await assertVerifiedEmail(ctx, userId, 'create an organization');
    const chosen = input.slug ?? null;
    const base = chosen ?? slugify(input.name);
    for (let attempt = 0; ; attempt += 1) {
      const slug = attempt === 0 ? base : withSuffix(base);
      try {
        return await inTransaction(ctx, async (tx) => {
          const organization = await organizationRepository.insert(tx, {
            name: input.name.trim(),
            slug,
            billingEmail: input.billingEmail ?? null,
            trialEndsAt: trialEnd(ctx),
          });
          await membershipRepository.insert(tx, {
            userId,
            organizationId: organization.id,
            role: OrganizationRole.OWNER,
          });
          await startFreeSubscription(tx, organization.id, new Date());
          await recordAudit(ctx, tx, {
            action: AUDIT_ACTIONS.createOrganization,
            organizationId: organization.id,
            target: organizationTarget(organization),
            changes: diff(null, { name: organization.name, slug, billingEmail: organization.billingEmail }),
          });
          return organization;
        });
      } catch (error) {
        if (chosen !== null || attempt >= 4 || !(error instanceof ConflictError)) throw error;
      }
    }
  }

  /** The caller's organizations, oldest first, with the caller's role and what the query asks, in one statement. */
  async listMine(
    ctx: RequestContext,
    first: number | null | undefined,
    after: string | null | undefined,
    details: OrganizationDetails | null,
  ): Promise<Page<Organization>> {
    const { principal } = requireViewer(ctx);
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await ctx.loaders.organizationPage(principal, window, details);
    return toPage(
      rows.map((row) => row.organization),
      window.limit,
      totalCount,
    );
  }

  async get(ctx: RequestContext, access: OrganizationDecision): Promise<Organization> {
    return (await access.get()).organization;
  }

  async myRole(ctx: RequestContext, access: OrganizationDecision): Promise<OrganizationRole> {
    return (await access.get()).role;
  }

  async myPermissions(ctx: RequestContext, access: OrganizationDecision): Promise<string[]> {
    const { role, authentication } = await access.get();
    return permissionsOfRole(role, authentication);
  }

  async update(
    ctx: RequestContext,
    access: OrganizationDecision,
    input: UpdateOrganizationInput,
  ): Promise<Organization> {
    const { organization } = await access.get();
    const changes: Partial<Organization> = {};
    if (input.name != null) changes.name = input.name.trim();
    if (input.slug != null) changes.slug = input.slug;
    if (input.billingEmail !== undefined) changes.billingEmail = input.billingEmail;
    const updated = await inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, organization.id, () => new NotFoundError('Organization', organization.slug));
      const after = await organizationRepository.update(tx, organization.id, changes);
      if (after) {
        const before = pick(organization, Object.keys(changes));
        await recordAudit(ctx, tx, {
          action: AUDIT_ACTIONS.updateOrganization,
          organizationId: organization.id,
          target: organizationTarget(after),
          changes: diff(before, pick(after, Object.keys(changes))),
        });
      }
      return after;
    });
    if (!updated) throw new NotFoundError('Organization', organization.slug);
    return updated;
  }

  /**
   * Marks it deleted: hidden from everyone but its owners, who can undelete it during the grace
   * period; then it is purged with its projects (invoices stay). The slug stays taken until then.
   */
  async delete(ctx: RequestContext, access: OrganizationDecision): Promise<boolean> {
    const { organization } = await access.get();
    await inTransaction(ctx, async (tx) => {
      // The organization's lock first, as every other change of it takes it first: no deadlock with them.
      await lockLiveOrganization(tx, organization.id, () => new NotFoundError('Organization', organization.slug));
      if (!(await organizationRepository.markDeleted(tx, organization.id))) {
        throw new NotFoundError('Organization', organization.slug);
      }
      await recordAudit(ctx, tx, {
        action: AUDIT_ACTIONS.deleteOrganization,
        organizationId: organization.id,
        target: organizationTarget(organization),
      });
    });
    return true;
  }

  async undelete(ctx: RequestContext, access: OrganizationDecision): Promise<Organization> {
    const { organization } = await access.get();
    return inTransaction(ctx, async (tx) => {
      const gone = () => new NotFoundError('Organization', organization.slug);
      await lockLiveOrganization(tx, organization.id, gone, { deleted: true });
      const restored = await organizationRepository.undelete(tx, organization.id, graceStart(ctx));
      if (!restored) {
        throw new ConflictError(
          `Organization ${organization.slug} is not deleted, or its grace period is over`,
          'slug',
        );
      }
      await recordAudit(ctx, tx, {
        action: AUDIT_ACTIONS.undeleteOrganization,
        organizationId: organization.id,
        target: organizationTarget(restored),
      });
      return restored;
    });
  }

  /** The caller's deleted organizations (as owner), until they are purged. */
  async deletedMine(ctx: RequestContext, first?: number | null, after?: string | null): Promise<Page<Organization>> {
    const userId = requireUser(ctx);
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await organizationRepository.deletedOwnedBy(ctx.db, userId, window);
    return toPage(rows, window.limit, totalCount);
  }
}

function organizationTarget(organization: Organization) {
  return { type: 'organization', id: organization.id, label: organization.slug };
}

function pick(from: object, fields: string[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((field) => [field, (from as Record<string, unknown>)[field]]));
}

export const organizationService = new OrganizationService();
