import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import { InvoiceStatus } from '../entities/invoice.entity';
import { Organization } from '../entities/organization.entity';
import { OrganizationRole } from '../entities/user-role.entity';
import {
  detailColumns,
  detailRows,
  type DetailRows,
  type OrganizationDetails,
  type PageWindow,
} from './organization-details';
import { matching } from './matching';
import { ORGANIZATION } from './shapes';
import { parameters, tablesOf } from './visibility';
import type { Principal } from '../permissions';

/** An organization as the caller sees it: with their role in it, and what the query asked to read with it. */
export interface OrganizationRow {
  organization: Organization;
  role: OrganizationRole | null;
  details: DetailRows | null;
}

type Row = Record<string, unknown>;

function toOrganizationRow(row: Row, details: OrganizationDetails | null): OrganizationRow {
  const role = (row.viewer_role as OrganizationRole | null) ?? null;
  return { organization: ORGANIZATION.fromRow(row), role, details: details ? detailRows(details, role, row) : null };
}

export const organizationRepository = {
  /** Organizations by id or slug, each with the caller's role and the asked details, in one statement. */
  async withRole(
    db: DataSource,
    viewer: Principal | null,
    column: 'id' | 'slug',
    keys: readonly string[],
    details: OrganizationDetails | null,
  ): Promise<OrganizationRow[]> {
    const tables = tablesOf(viewer);
    const { params, add } = parameters([viewer?.id ?? null]);
    const where = matching(`o.${column}`, keys, add);
    const extra = details ? detailColumns(details, { org: 'o.id', role: 'r.role', viewer: '$1', tables }, add) : '';
    const rows = await leanQuery<Row>(
      db,
      `SELECT ${ORGANIZATION.select('o')}, r.role AS viewer_role${extra} FROM platform.organizations o
       LEFT JOIN ${tables.roles} r ON r.organization_id = o.id AND r.${tables.roleHolder} = $1
       WHERE ${where}`,
      params,
    );
    return rows.map((row) => toOrganizationRow(row, details));
  },

  /** A page of the caller's organizations, oldest first, with the total, in one statement. */
  async pageForMember(
    db: DataSource,
    viewer: Principal,
    window: PageWindow,
    details: OrganizationDetails | null,
  ): Promise<{ rows: OrganizationRow[]; totalCount: number }> {
    const tables = tablesOf(viewer);
    const { params, add } = parameters([viewer.id, window.after?.createdAt ?? null, window.after?.id ?? null]);
    const limit = add(window.limit + 1);
    const extra = details
      ? detailColumns(details, { org: 'page.id', role: 'page.viewer_role', viewer: '$1', tables }, add)
      : '';
    const rows = await leanQuery<Row>(
      db,
      `WITH mine AS (
         SELECT ${ORGANIZATION.select('o')}, r.role AS viewer_role
         FROM ${tables.roles} r JOIN platform.organizations o ON o.id = r.organization_id
         WHERE r.${tables.roleHolder} = $1 AND o.deleted_at IS NULL
       ), page AS (
         SELECT mine.*, (SELECT count(*) FROM mine) AS total FROM mine
         WHERE $2::timestamptz IS NULL OR (mine.created_at, mine.id) > ($2::timestamptz, $3::uuid)
         ORDER BY mine.created_at, mine.id
         LIMIT ${limit}
       )
       SELECT page.*${extra} FROM page ORDER BY page.created_at, page.id`,
      params,
    );
    const totalCount = rows.length ? Number(rows[0].total) : await organizationRepository.countForMember(db, viewer);
    return { rows: rows.map((row) => toOrganizationRow(row, details)), totalCount };
  },

  async countForMember(db: DataSource, viewer: Principal): Promise<number> {
    const tables = tablesOf(viewer);
    const [row] = await leanQuery<{ total: string }>(
      db,
      `SELECT count(*) AS total FROM ${tables.roles} r JOIN platform.organizations o ON o.id = r.organization_id
       WHERE r.${tables.roleHolder} = $1 AND o.deleted_at IS NULL`,
      [viewer.id],
    );
    return Number(row.total);
  },

  async insert(
    tx: EntityManager,
    values: Pick<Organization, 'name' | 'slug' | 'billingEmail' | 'trialEndsAt'>,
  ): Promise<Organization> {
    return tx.save(tx.create(Organization, values));
  },

  /** The changed organization, or null when it is gone. */
  async update(
    tx: EntityManager,
    id: string,
    changes: Partial<
      Pick<Organization, 'name' | 'slug' | 'billingEmail' | 'taxId' | 'billingAddress' | 'paymentCustomerRef'>
    >,
  ): Promise<Organization | null> {
    if (Object.keys(changes).length > 0) await tx.update(Organization, { id, deletedAt: IsNull() }, changes);
    return tx.findOneBy(Organization, { id, deletedAt: IsNull() });
  },

  /** Marks it deleted (hidden from all but its owners until the purge); false when it already was. */
  async markDeleted(tx: EntityManager, id: string): Promise<boolean> {
    const [rows] = await tx.query<[unknown[], number]>(
      'UPDATE platform.organizations SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id',
      [id],
    );
    return rows.length > 0;
  },

  /** Brings it back; null when it was not deleted, or was deleted before `since`. */
  async undelete(tx: EntityManager, id: string, since: Date): Promise<Organization | null> {
    const [rows] = await tx.query<[Row[], number]>(
      `UPDATE platform.organizations SET deleted_at = NULL, updated_at = now() WHERE id = $1 AND deleted_at > $2
       RETURNING ${ORGANIZATION.select('organizations')}`,
      [id, since],
    );
    return rows.length ? ORGANIZATION.fromRow(rows[0]) : null;
  },

  /** A page of the deleted organizations this user owns, in (created_at, id) order, with their total. */
  async deletedOwnedBy(
    db: DataSource,
    userId: string,
    window: PageWindow,
  ): Promise<{ rows: Organization[]; totalCount: number }> {
    const rows = await leanQuery<Row>(
      db,
      `SELECT * FROM (
         SELECT ${ORGANIZATION.select('o')}, count(*) OVER () AS total FROM platform.organizations o
         JOIN platform.user_roles r ON r.organization_id = o.id AND r.user_id = $1 AND r.role = $2
         WHERE o.deleted_at IS NOT NULL) page
       WHERE $3::timestamptz IS NULL OR (page.created_at, page.id) > ($3::timestamptz, $4::uuid)
       ORDER BY page.created_at, page.id LIMIT $5`,
      [userId, OrganizationRole.OWNER, window.after?.createdAt ?? null, window.after?.id ?? null, window.limit + 1],
    );
    return { rows: rows.map((row) => ORGANIZATION.fromRow(row)), totalCount: rows.length ? Number(rows[0].total) : 0 };
  },

  async deletedById(db: EntityManager, id: string): Promise<Organization | null> {
    const rows = await db.query<Row[]>(
      `SELECT ${ORGANIZATION.select('o')} FROM platform.organizations o WHERE o.id = $1 AND o.deleted_at IS NOT NULL`,
      [id],
    );
    return rows.length ? ORGANIZATION.fromRow(rows[0]) : null;
  },

  async deletedBefore(db: EntityManager, before: Date): Promise<string[]> {
    const rows = await db.query<{ id: string }[]>('SELECT id FROM platform.organizations WHERE deleted_at <= $1', [
      before,
    ]);
    return rows.map((row) => row.id);
  },

  /**
   * The purge: projects, credentials, roles, grants, invitations, subscriptions and payment methods go
   * with it (ON DELETE CASCADE); issued invoices stay, their organization set to null. The draft of
   * the period in progress goes: it was never issued, and no one would ever issue it.
   */
  async purgeIfDeleted(tx: EntityManager, id: string): Promise<void> {
    await tx.query(
      `DELETE FROM platform.invoices i USING organizations o
       WHERE o.id = $1 AND o.deleted_at IS NOT NULL AND i.organization_id = o.id AND i.status = $2`,
      [id, InvoiceStatus.DRAFT],
    );
    await tx.query('DELETE FROM platform.organizations WHERE id = $1 AND deleted_at IS NOT NULL', [id]);
  },
};

/**
 * Serializes the changes of one organization (members, projects, billing), so that rules over
 * several rows ("keep one owner", plan limits) hold under concurrency. Every transaction that
 * takes it takes it first, before any other row lock, so two of them cannot deadlock on it.
 * False when the organization is gone, or deleted (unless `deleted` is asked for).
 */
export async function lockOrganization(
  tx: EntityManager,
  organizationId: string,
  options: { deleted?: boolean } = {},
): Promise<boolean> {
  return (await lockOrganizationStanding(tx, organizationId, options)) !== null;
}

/** lockOrganization, answering with the organization's suspension (null: gone), read by the same statement. */
export async function lockOrganizationStanding(
  tx: EntityManager,
  organizationId: string,
  options: { deleted?: boolean } = {},
): Promise<{ suspensionReason: string | null } | null> {
  // A deleted organization takes no more changes (but its undeletion and its purge).
  const rows = await tx.query<{ suspension_reason: string | null }[]>(
    `SELECT suspension_reason FROM platform.organizations WHERE id = $1 AND (deleted_at IS NULL OR $2) FOR UPDATE`,
    [organizationId, options.deleted === true],
  );
  return rows.length ? { suspensionReason: rows[0].suspension_reason } : null;
}
