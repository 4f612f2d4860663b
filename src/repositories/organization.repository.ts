import type { DataSource, EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import { Organization } from '../entities/organization.entity';
import type { OrganizationRole } from '../entities/user-role.entity';
import {
  detailColumns,
  detailRows,
  type DetailRows,
  type OrganizationDetails,
  type PageWindow,
} from './organization-details';
import { matching } from './matching';
import { ORGANIZATION } from './shapes';
import { parameters } from './visibility';

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
    viewerId: string | null,
    column: 'id' | 'slug',
    keys: readonly string[],
    details: OrganizationDetails | null,
  ): Promise<OrganizationRow[]> {
    const { params, add } = parameters([viewerId]);
    const where = matching(`o.${column}`, keys, add);
    const extra = details ? detailColumns(details, { org: 'o.id', role: 'r.role', viewer: '$1' }, add) : '';
    const rows = await leanQuery<Row>(
      db,
      `SELECT ${ORGANIZATION.select('o')}, r.role AS viewer_role${extra} FROM organizations o
       LEFT JOIN user_roles r ON r.organization_id = o.id AND r.user_id = $1
       WHERE ${where}`,
      params,
    );
    return rows.map((row) => toOrganizationRow(row, details));
  },

  /** A page of the caller's organizations, oldest first, with the total, in one statement. */
  async pageForMember(
    db: DataSource,
    userId: string,
    window: PageWindow,
    details: OrganizationDetails | null,
  ): Promise<{ rows: OrganizationRow[]; totalCount: number }> {
    const { params, add } = parameters([userId, window.after?.createdAt ?? null, window.after?.id ?? null]);
    const limit = add(window.limit + 1);
    const extra = details
      ? detailColumns(details, { org: 'page.id', role: 'page.viewer_role', viewer: '$1' }, add)
      : '';
    const rows = await leanQuery<Row>(
      db,
      `WITH mine AS (
         SELECT ${ORGANIZATION.select('o')}, r.role AS viewer_role
         FROM user_roles r JOIN organizations o ON o.id = r.organization_id
         WHERE r.user_id = $1
       ), page AS (
         SELECT mine.*, (SELECT count(*) FROM mine) AS total FROM mine
         WHERE $2::timestamptz IS NULL OR (mine.created_at, mine.id) > ($2::timestamptz, $3::uuid)
         ORDER BY mine.created_at, mine.id
         LIMIT ${limit}
       )
       SELECT page.*${extra} FROM page ORDER BY page.created_at, page.id`,
      params,
    );
    const totalCount = rows.length ? Number(rows[0].total) : await organizationRepository.countForMember(db, userId);
    return { rows: rows.map((row) => toOrganizationRow(row, details)), totalCount };
  },

  async countForMember(db: DataSource, userId: string): Promise<number> {
    const [row] = await leanQuery<{ total: string }>(
      db,
      'SELECT count(*) AS total FROM user_roles WHERE user_id = $1',
      [userId],
    );
    return Number(row.total);
  },

  async insert(tx: EntityManager, values: Pick<Organization, 'name' | 'slug' | 'billingEmail'>): Promise<Organization> {
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
    if (Object.keys(changes).length > 0) await tx.update(Organization, { id }, changes);
    return tx.findOneBy(Organization, { id });
  },

  /** Projects, credentials, roles, grants, invitations and billing records go with it (ON DELETE CASCADE). */
  async delete(tx: EntityManager, id: string): Promise<boolean> {
    const result = await tx.delete(Organization, { id });
    return Boolean(result.affected);
  },
};

/**
 * Serializes the changes of one organization (members, projects, billing), so that rules over
 * several rows ("keep one owner", plan limits) hold under concurrency. Every transaction that
 * takes it takes it first, before any other row lock, so two of them cannot deadlock on it.
 * False when the organization is gone.
 */
export async function lockOrganization(tx: EntityManager, organizationId: string): Promise<boolean> {
  const rows = await tx.query<unknown[]>('SELECT id FROM organizations WHERE id = $1 FOR UPDATE', [organizationId]);
  return rows.length > 0;
}
