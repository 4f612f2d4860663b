import type { DataSource, EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import type { Organization, SuspensionKind } from '../entities/organization.entity';
import type { Project } from '../entities/project.entity';
import { afterCursor, likeEscaped } from './matching';
import type { PageWindow, Rows } from './organization-details';
import { ORGANIZATION, PROJECT } from './shapes';
import { parameters } from './visibility';

/** An organization with the operator's summary of it. */
export interface PlatformOrganizationRow {
  organization: Organization;
  plan: string;
  complimentaryUntil: Date | null;
  memberCount: number;
  projectCount: number;
}

type Row = Record<string, unknown>;

/** The summary columns of `o`: its current plan, and its member and project counts. */
const SUMMARY = `(SELECT pl.code FROM platform.subscriptions s JOIN platform.plans pl ON pl.id = s.plan_id
                  WHERE s.organization_id = o.id AND s.status <> 'canceled') AS plan_code,
                 (SELECT s.complimentary_until FROM platform.subscriptions s
                  WHERE s.organization_id = o.id AND s.status <> 'canceled') AS complimentary_until,
                 (SELECT count(*) FROM platform.user_roles m WHERE m.organization_id = o.id) AS member_count,
                 (SELECT count(*) FROM platform.projects p WHERE p.organization_id = o.id AND p.deleted_at IS NULL) AS project_count`;

function toRow(row: Row): PlatformOrganizationRow {
  return {
    organization: ORGANIZATION.fromRow(row),
    plan: (row.plan_code as string | null) ?? '',
    complimentaryUntil: (row.complimentary_until as Date | null) ?? null,
    memberCount: Number(row.member_count),
    projectCount: Number(row.project_count),
  };
}

/** The operator's reads across every tenant, and suspension. Never used on a tenant's request. */
export const platformRepository = {
  /** A page of every organization (deleted ones included), oldest first, matching `search` in its slug or name. */
  async organizationPage(
    db: DataSource,
    search: string | null,
    window: PageWindow,
  ): Promise<Rows<PlatformOrganizationRow>> {
    const { params, add } = parameters([search ? `%${likeEscaped(search)}%` : null]);
    const rows = await leanQuery<Row>(
      db,
      `SELECT o.*, ${SUMMARY} FROM (
         SELECT ${ORGANIZATION.select('o')}, count(*) OVER () AS total FROM platform.organizations o
         WHERE $1::text IS NULL OR o.slug ILIKE $1 OR o.name ILIKE $1) o
       WHERE ${afterCursor('o', window.after, add)}
       ORDER BY o.created_at, o.id LIMIT ${add(window.limit + 1)}`,
      params,
    );
    const totalCount = rows.length ? Number(rows[0].total) : 0;
    return { rows: rows.map(toRow), totalCount };
  },

  async organizationBySlug(db: DataSource, slug: string): Promise<PlatformOrganizationRow | null> {
    const rows = await leanQuery<Row>(
      db,
      `SELECT ${ORGANIZATION.select('o')}, ${SUMMARY} FROM platform.organizations o WHERE o.slug = $1`,
      [slug],
    );
    return rows.length ? toRow(rows[0]) : null;
  },

  /** A page of an organization's projects, deleted ones included, oldest first. */
  async projectPage(db: DataSource, organizationId: string, window: PageWindow): Promise<Rows<Project>> {
    const { params, add } = parameters([organizationId]);
    const rows = await leanQuery<Row>(
      db,
      `SELECT * FROM (
         SELECT ${PROJECT.select('p')}, count(*) OVER () AS total FROM platform.projects p WHERE p.organization_id = $1) p
       WHERE ${afterCursor('p', window.after, add)}
       ORDER BY p.created_at, p.id LIMIT ${add(window.limit + 1)}`,
      params,
    );
    return { rows: rows.map((row) => PROJECT.fromRow(row)), totalCount: rows.length ? Number(rows[0].total) : 0 };
  },

  /** The id of the organization with this slug, deleted or not, locked; null when there is none. */
  async lockBySlug(tx: EntityManager, slug: string): Promise<string | null> {
    const rows = await tx.query<{ id: string }[]>('SELECT id FROM platform.organizations WHERE slug = $1 FOR UPDATE', [
      slug,
    ]);
    return rows[0]?.id ?? null;
  },

  /** Suspends it (or re-suspends it with this reason and kind); the organization, or null when it is gone. */
  async suspend(
    tx: EntityManager,
    id: string,
    reason: string,
    kind: SuspensionKind,
    at: Date,
  ): Promise<Organization | null> {
    const [rows] = await tx.query<[Row[], number]>(
      `UPDATE platform.organizations SET suspended_at = coalesce(suspended_at, $2), suspension_reason = $3,
              suspension_kind = $4, updated_at = now()
       WHERE id = $1 RETURNING ${ORGANIZATION.select('organizations')}`,
      [id, at, reason, kind],
    );
    return rows.length ? ORGANIZATION.fromRow(rows[0]) : null;
  },

  /** Lifts its suspension (only one of `kind`, when given); the organization, or null when nothing was lifted. */
  async unsuspend(tx: EntityManager, id: string, kind?: SuspensionKind): Promise<Organization | null> {
    const [rows] = await tx.query<[Row[], number]>(
      `UPDATE platform.organizations SET suspended_at = NULL, suspension_reason = NULL, suspension_kind = NULL, updated_at = now()
       WHERE id = $1 AND suspended_at IS NOT NULL AND ($2::text IS NULL OR suspension_kind = $2)
       RETURNING ${ORGANIZATION.select('organizations')}`,
      [id, kind ?? null],
    );
    return rows.length ? ORGANIZATION.fromRow(rows[0]) : null;
  },

  async byId(tx: EntityManager, id: string): Promise<Organization | null> {
    const rows = await tx.query<Row[]>(
      `SELECT ${ORGANIZATION.select('o')} FROM platform.organizations o WHERE o.id = $1`,
      [id],
    );
    return rows.length ? ORGANIZATION.fromRow(rows[0]) : null;
  },

  /** Organizations not yet suspended with an invoice issued at or before `issuedBy` and still open. */
  async pastDue(db: EntityManager, issuedBy: Date, organizationId?: string): Promise<string[]> {
    const rows = await db.query<{ id: string }[]>(
      `SELECT DISTINCT o.id FROM platform.organizations o JOIN platform.invoices i ON i.organization_id = o.id
       WHERE o.suspended_at IS NULL AND o.deleted_at IS NULL AND i.status = 'open' AND i.issued_at <= $1
         AND ($2::uuid IS NULL OR o.id = $2)`,
      [issuedBy, organizationId ?? null],
    );
    return rows.map((row) => row.id);
  },

  /** The organizations the user owns, by id (the order their locks are taken in). */
  async ownedOrganizations(tx: EntityManager, userId: string): Promise<string[]> {
    const rows = await tx.query<{ organization_id: string }[]>(
      `SELECT organization_id FROM platform.user_roles WHERE user_id = $1 AND role = 'owner' ORDER BY organization_id`,
      [userId],
    );
    return rows.map((row) => row.organization_id);
  },

  /** The slugs of the organizations whose last owner is this user. */
  async lastOwnerships(tx: EntityManager, userId: string): Promise<string[]> {
    const rows = await tx.query<{ slug: string }[]>(
      `SELECT o.slug FROM platform.user_roles r JOIN platform.organizations o ON o.id = r.organization_id
       WHERE r.user_id = $1 AND r.role = 'owner' AND o.deleted_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM platform.user_roles other WHERE other.organization_id = r.organization_id
                         AND other.role = 'owner' AND other.user_id <> $1)
       ORDER BY o.slug`,
      [userId],
    );
    return rows.map((row) => row.slug);
  },
};
