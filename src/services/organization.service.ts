import { organizationAccess } from '../auth/access';
import { requireViewer, type RequestContext } from '../request/context';
import { Permission, permissionsOfRole } from '../permissions';
import { detailColumns, type OrganizationDetails } from '../repositories/organization-details';
import { leanQuery } from '../database/request-database';
import { inTransaction } from '../request/transaction';
import { Organization } from '../entities/organization.entity';
import { OrganizationRole, UserRole } from '../entities/user-role.entity';
import { ConflictError } from '../errors';
import type { CreateOrganizationInput, UpdateOrganizationInput } from '../inputs/organization.inputs';
import type { Page } from '../types/connection.type';
import { startFreeSubscription } from './billing-plan.service';
import { pageRequest, toPage } from '../graphql/pagination';
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

  /** The caller's organizations, oldest first, read with the caller's role in one statement. */
  async listMine(
    ctx: RequestContext,
    first?: number | null,
    after?: string | null,
    details: OrganizationDetails | null = null,
  ): Promise<Page<Organization>> {
    const { userId } = requireViewer(ctx);
    const page = pageRequest(ctx, first, after);
    const params: unknown[] = [userId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit + 1];
    const extra = details ? detailColumns(details, 'page.id', 'page.viewer_role', '$1', params) : '';
    const rows = await leanQuery(
      ctx.db,
      `WITH mine AS (
         SELECT o.id, o.created_at, o.updated_at, o.name, o.slug, o.billing_email, o.payment_customer_ref,
                o.tax_id, o.billing_address, o.last_invoice_number, r.role AS viewer_role
         FROM user_roles r JOIN organizations o ON o.id = r.organization_id
         WHERE r.user_id = $1
       ), page AS (
         SELECT mine.*, (SELECT count(*) FROM mine) AS total FROM mine
         WHERE $2::timestamptz IS NULL OR (mine.created_at, mine.id) > ($2::timestamptz, $3::uuid)
         ORDER BY mine.created_at, mine.id
         LIMIT $4
       )
       SELECT page.*${extra} FROM page ORDER BY page.created_at, page.id`,
      params,
    );
    // Their members and first project page, when the query asks for them, came in the same row.
    const organizations = rows.map((row) => ctx.loaders.organizationFromRow(row, details));
    const totalCount = rows.length
      ? Number(rows[0].total)
      : Number(
          (
            await leanQuery<{ total: string }>(ctx.db, 'SELECT count(*) AS total FROM user_roles WHERE user_id = $1', [
              userId,
            ])
          )[0].total,
        );
    return toPage(organizations, page.limit, totalCount);
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

export const organizationService = new OrganizationService();
