import type { EntityManager } from 'typeorm';
import { organizationAccess } from '../auth/access';
import { requireViewer, type RequestContext } from '../auth/context';
import { Permission, permissionsOfRole } from '../auth/permissions';
import { inTransaction } from '../database/transaction';
import { Organization } from '../entities/organization.entity';
import { OrganizationRole, UserRole } from '../entities/user-role.entity';
import { ConflictError } from '../errors';
import type { CreateOrganizationInput, UpdateOrganizationInput } from '../inputs/organization.inputs';
import type { Page } from '../types/connection.type';
import { startFreeSubscription } from './billing-plan.service';
import { pageRequest, toPage } from './pagination';
import { slugify, withSuffix } from './slug';

export class OrganizationService {
  /** The caller becomes the owner, on the free plan. A generated slug that is taken gets a random suffix; a chosen one is a CONFLICT. */
  async create(ctx: RequestContext, input: CreateOrganizationInput): Promise<Organization> {
    const { userId } = requireViewer(ctx);
    const chosen = input.slug ?? null;
    const base = chosen ?? slugify(input.name);
    for (let attempt = 0; ; attempt += 1) {
      const slug = attempt === 0 ? base : withSuffix(base);
      try {
        return await inTransaction(ctx, async (tx) => {
          const organization = await tx.save(
            tx.create(Organization, { name: input.name.trim(), slug, billingEmail: input.billingEmail ?? null }),
          );
          await tx.insert(UserRole, { userId, organizationId: organization.id, role: OrganizationRole.OWNER });
          await startFreeSubscription(tx, organization.id, new Date());
          return organization;
        });
      } catch (error) {
        if (chosen !== null || attempt >= 4 || !(error instanceof ConflictError)) throw error;
      }
    }
  }

  /** The caller's organizations, oldest membership first. */
  async listMine(ctx: RequestContext, first?: number | null, after?: string | null): Promise<Page<Organization>> {
    const { userId } = requireViewer(ctx);
    const page = pageRequest(ctx, first, after);
    const query = ctx.db
      .getRepository(Organization)
      .createQueryBuilder('organization')
      .innerJoin(UserRole, 'role', 'role.organization_id = organization.id AND role.user_id = :userId', { userId });
    const totalCount = await query.getCount();
    if (page.after) {
      query.andWhere('(organization.created_at, organization.id) > (:at, :id)', {
        at: page.after.createdAt,
        id: page.after.id,
      });
    }
    const rows = await query
      .orderBy('organization.created_at', 'ASC')
      .addOrderBy('organization.id', 'ASC')
      .take(page.limit + 1)
      .getMany();
    return toPage(rows, page.limit, totalCount);
  }

  async get(ctx: RequestContext, slug: string): Promise<Organization> {
    return (await organizationAccess(ctx, { slug }, Permission.OrganizationRead)).organization;
  }

  async myRole(ctx: RequestContext, organization: Organization): Promise<OrganizationRole> {
    return (await organizationAccess(ctx, { id: organization.id }, Permission.OrganizationRead)).role;
  }

  async myPermissions(ctx: RequestContext, organization: Organization): Promise<string[]> {
    return permissionsOfRole(await this.myRole(ctx, organization));
  }

  async update(ctx: RequestContext, slug: string, input: UpdateOrganizationInput): Promise<Organization> {
    const { organization } = await organizationAccess(ctx, { slug }, Permission.OrganizationUpdate);
    const changes: Partial<Organization> = {};
    if (input.name != null) changes.name = input.name.trim();
    if (input.slug != null) changes.slug = input.slug;
    if (input.billingEmail !== undefined) changes.billingEmail = input.billingEmail;
    return inTransaction(ctx, async (tx) => {
      if (Object.keys(changes).length > 0) await tx.update(Organization, { id: organization.id }, changes);
      return tx.findOneByOrFail(Organization, { id: organization.id });
    });
  }

  /** Projects, credentials, roles, permissions, invitations and billing records go with it (ON DELETE CASCADE). */
  async delete(ctx: RequestContext, slug: string): Promise<boolean> {
    const { organization } = await organizationAccess(ctx, { slug }, Permission.OrganizationDelete);
    await inTransaction(ctx, (tx) => tx.delete(Organization, { id: organization.id }));
    return true;
  }
}

/** Serializes membership changes of one organization, so "keep one owner" holds under concurrency. */
export async function lockOrganization(tx: EntityManager, organizationId: string): Promise<void> {
  await tx.query('SELECT id FROM organizations WHERE id = $1 FOR UPDATE', [organizationId]);
}

export const organizationService = new OrganizationService();
