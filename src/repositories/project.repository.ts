import { In, IsNull, type DataSource, type EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import { Credential } from '../entities/credential.entity';
import { ProjectGrant, type AccessLevel } from '../entities/project-grant.entity';
import { Project, ProjectStatus } from '../entities/project.entity';
import type { OrganizationRole } from '../entities/user-role.entity';
import type { ProjectPermission } from '../permissions';
import { AUDIT_INSERT, auditSelectList, deliveriesOf, DELIVERY_IDS, type AuditRecord } from './audit.repository';
import { matching } from './matching';
import type { PageWindow, Rows } from './organization-details';
import { CREDENTIAL, PROJECT } from './shapes';
import { callerMay, callerSees, parameters, tablesOf } from './visibility';
import type { Principal } from '../permissions';

/** A project as the caller sees it: with their role in its organization, their grant, and its credentials. */
export interface ProjectRow {
  project: Project;
  role: OrganizationRole | null;
  grant: AccessLevel | null;
  credential: Credential | null;
  /** Its organization was deleted: the project is hidden with it. */
  organizationDeleted: boolean;
  /** The reason its organization is suspended; null while it is not. */
  organizationSuspension: string | null;
}

type Row = Record<string, unknown>;

/**
 * What does not count against a plan's limit: paused projects (a restore that failed left its
 * project paused), removed ones, and deleted ones (GOING_DOWN). A failed start or pause counts:
 * the project is still there to retry.
 */
export const INACTIVE_PROJECT_STATUSES = [
  ProjectStatus.PAUSED,
  ProjectStatus.RESTORE_FAILED,
  ProjectStatus.REMOVED,
  ProjectStatus.GOING_DOWN,
];

export const projectRepository = {
  /**
   * Projects by id or ref with the caller's role and grant and the credentials (still encrypted),
   * in one statement: a project page nearly always asks for its keys next.
   */
  async withAccess(
    db: DataSource,
    viewer: Principal | null,
    column: 'id' | 'ref',
    keys: readonly string[],
  ): Promise<ProjectRow[]> {
    const tables = tablesOf(viewer);
    const { params, add } = parameters([viewer?.id ?? null]);
    const rows = await leanQuery<Row>(
      db,
      `SELECT ${PROJECT.select('p')}, r.role AS viewer_role, g.access_level AS viewer_grant, ${CREDENTIAL.select('c', 'c_')},
              o.deleted_at IS NOT NULL AS organization_deleted, o.suspension_reason AS organization_suspension
       FROM platform.projects p
       JOIN platform.organizations o ON o.id = p.organization_id
       LEFT JOIN ${tables.roles} r ON r.organization_id = p.organization_id AND r.${tables.roleHolder} = $1
       LEFT JOIN platform.permissions g ON g.project_id = p.id AND g.${tables.grantee} = $1
       LEFT JOIN platform.credentials c ON c.project_id = p.id
       WHERE ${matching(`p.${column}`, keys, add)}`,
      params,
    );
    return rows.map((row) => ({
      project: PROJECT.fromRow(row),
      role: (row.viewer_role as OrganizationRole | null) ?? null,
      grant: (row.viewer_grant as AccessLevel | null) ?? null,
      credential: row.c_id === null ? null : CREDENTIAL.fromRow(row, 'c_'),
      organizationDeleted: row.organization_deleted === true,
      organizationSuspension: (row.organization_suspension as string | null) ?? null,
    }));
  },

  /**
   * The projects the caller sees in each organization, a page of each after the same cursor, with
   * each total, in one statement. One organization is matched by equality (see `matching`).
   */
  async pagesFor(
    db: DataSource,
    viewer: Principal,
    organizationIds: readonly string[],
    window: PageWindow,
  ): Promise<Map<string, Rows<Project>>> {
    const tables = tablesOf(viewer);
    const { params, add } = parameters([viewer.id, window.after?.createdAt ?? null, window.after?.id ?? null]);
    const visible = callerSees({ project: 'p', role: 'r.role', viewer: '$1', tables }, add);
    const rows = await leanQuery<Row>(
      db,
      `WITH visible AS (
         SELECT ${PROJECT.select('p')} FROM platform.projects p
         JOIN ${tables.roles} r ON r.organization_id = p.organization_id AND r.${tables.roleHolder} = $1
         WHERE ${matching('p.organization_id', organizationIds, add)} AND p.deleted_at IS NULL AND ${visible}
       ), totals AS (
         SELECT organization_id, count(*) AS total FROM visible GROUP BY organization_id
       )
       SELECT page.*, totals.organization_id AS page_organization_id, totals.total
       FROM totals
       LEFT JOIN LATERAL (
         SELECT v.* FROM visible v
         WHERE v.organization_id = totals.organization_id
           AND ($2::timestamptz IS NULL OR (v.created_at, v.id) > ($2::timestamptz, $3::uuid))
         ORDER BY v.created_at, v.id
         LIMIT ${add(window.limit + 1)}
       ) page ON true
       ORDER BY totals.organization_id, page.created_at, page.id`,
      params,
    );
    const pages = new Map<string, Rows<Project>>(organizationIds.map((id) => [id, { rows: [], totalCount: 0 }]));
    for (const row of rows) {
      const page = pages.get(row.page_organization_id as string);
      if (!page) continue;
      page.totalCount = Number(row.total);
      if (row.id !== null) page.rows.push(PROJECT.fromRow(row));
    }
    return pages;
  },

  /**
   * Renames a project in one statement that also checks the caller holds `permission` on it and
   * writes the rename's audit event (`audit`, with the project's ids, name before and after taken
   * from the row). Null when nothing matched: the project is gone, hidden from the caller, or not
   * theirs to change; then no event is written either.
   */
  async renameAsCaller(
    db: DataSource,
    caller: { viewer: Principal; permission: ProjectPermission },
    locator: { id: string } | { ref: string },
    name: string,
    audit: AuditRecord,
  ): Promise<{ project: Project; deliveries: string[] } | null> {
    const tables = tablesOf(caller.viewer);
    const { params, add } = parameters([caller.viewer.id]);
    const allowed = callerMay(caller.permission, { project: 'p', role: 'r.role', viewer: '$1', tables }, add);
    const where = 'id' in locator ? `id = ${add(locator.id)}` : `ref = ${add(locator.ref)}`;
    const event = auditSelectList(audit, add, {
      organization_id: 'renamed.organization_id',
      target_id: 'renamed.id::text',
      target_label: 'renamed.name',
      project_ref: 'renamed.ref',
      changes: `CASE WHEN renamed.before_name IS DISTINCT FROM renamed.name
        THEN jsonb_build_array(jsonb_build_object('field', 'name', 'before', renamed.before_name, 'after', renamed.name))
        ELSE '[]'::jsonb END`,
    });
    const rows = await leanQuery<Row>(
      db,
      `WITH renamed AS (
         UPDATE platform.projects p SET name = ${add(name)}, updated_at = now()
         FROM ${tables.roles} r JOIN platform.organizations o ON o.id = r.organization_id,
              (SELECT id, name FROM platform.projects WHERE ${where} FOR UPDATE) prior
         WHERE p.id = prior.id AND r.organization_id = p.organization_id AND r.${tables.roleHolder} = $1 AND ${allowed}
           AND p.deleted_at IS NULL AND o.deleted_at IS NULL AND o.suspended_at IS NULL
         RETURNING ${PROJECT.select('p')}, prior.name AS before_name
       ), recorded AS (
         ${AUDIT_INSERT} SELECT ${event} FROM renamed RETURNING id, organization_id, action
       ), ${deliveriesOf('recorded')}
       SELECT renamed.*, ${DELIVERY_IDS} FROM renamed`,
      params,
    );
    return rows.length ? { project: PROJECT.fromRow(rows[0]), deliveries: rows[0].deliveries as string[] } : null;
  },

  async insert(
    tx: EntityManager,
    values: Pick<Project, 'name' | 'ref' | 'region' | 'organizationId' | 'status'>,
    credential: Pick<Credential, 'anonKey' | 'serviceRoleKey' | 'jwtSecret'>,
    creatorGrant: Pick<ProjectGrant, 'userId' | 'serviceAccountId' | 'accessLevel'>,
  ): Promise<Project> {
    const project = await tx.save(tx.create(Project, values));
    await tx.insert(Credential, { projectId: project.id, ...credential });
    await tx.insert(ProjectGrant, { projectId: project.id, ...creatorGrant });
    return project;
  },

  /** Moves the status from one of `from` to `to` (a compare-and-set); the project, or null when it was in none. */
  async transition(
    tx: EntityManager,
    id: string,
    from: ProjectStatus | readonly ProjectStatus[],
    to: ProjectStatus,
  ): Promise<Project | null> {
    const statuses: ProjectStatus[] = typeof from === 'string' ? [from] : [...from];
    const result = await tx.update(Project, { id, status: In(statuses) }, { status: to });
    return result.affected ? tx.findOneBy(Project, { id }) : null;
  },

  byId(tx: EntityManager, id: string): Promise<Project | null> {
    return tx.findOneBy(Project, { id });
  },

  /** Moves every running project of the organization to `to` (a compare-and-set on each); the ids moved. */
  async transitionAll(
    tx: EntityManager,
    organizationId: string,
    from: readonly ProjectStatus[],
    to: ProjectStatus,
  ): Promise<string[]> {
    const [rows] = await tx.query<[{ id: string }[], number]>(
      `UPDATE platform.projects SET status = $3, updated_at = now()
       WHERE organization_id = $1 AND status = ANY($2) AND deleted_at IS NULL RETURNING id`,
      [organizationId, [...from], to],
    );
    return rows.map((row) => row.id);
  },

  /** Suspended organizations that still have a running project (one that finished a step after the suspension). */
  async suspendedWithRunning(db: EntityManager, running: readonly ProjectStatus[]): Promise<string[]> {
    const rows = await db.query<{ id: string }[]>(
      `SELECT DISTINCT o.id FROM platform.organizations o JOIN platform.projects p ON p.organization_id = o.id
       WHERE o.suspended_at IS NOT NULL AND o.deleted_at IS NULL AND p.deleted_at IS NULL AND p.status = ANY($1)`,
      [[...running]],
    );
    return rows.map((row) => row.id);
  },

  /** Whether the project exists and is not deleted, read in the transaction (after the organization's lock). */
  async isLive(tx: EntityManager, id: string): Promise<boolean> {
    return tx.existsBy(Project, { id, deletedAt: IsNull() });
  },

  /** Credentials and grants go with it (ON DELETE CASCADE). */
  async delete(tx: EntityManager, id: string): Promise<boolean> {
    return Boolean((await tx.delete(Project, { id })).affected);
  },

  countActive(db: EntityManager, organizationId: string): Promise<number> {
    return db
      .createQueryBuilder(Project, 'p')
      .where('p.organization_id = :organizationId', { organizationId })
      .andWhere('p.status NOT IN (:...inactive)', { inactive: INACTIVE_PROJECT_STATUSES })
      .andWhere('p.deleted_at IS NULL')
      .getCount();
  },

  /** A project with its organization's slug, deleted or not: what a provisioning step needs. */
  /** A project as a lifecycle step needs it: with its organization's slug and when its status last changed. */
  async forProvisioning(
    db: EntityManager,
    id: string,
  ): Promise<{ project: Project; organizationSlug: string; statusChangedAt: Date } | null> {
    const rows = await db.query<Row[]>(
      `SELECT ${PROJECT.select('p')}, o.slug AS organization_slug, p.status_changed_at FROM platform.projects p
       JOIN platform.organizations o ON o.id = p.organization_id WHERE p.id = $1`,
      [id],
    );
    if (!rows.length) return null;
    const [row] = rows;
    return {
      project: PROJECT.fromRow(row),
      organizationSlug: row.organization_slug as string,
      statusChangedAt: row.status_changed_at as Date,
    };
  },

  async ofOrganization(db: EntityManager, organizationId: string): Promise<Project[]> {
    const rows = await db.query<Row[]>(
      `SELECT ${PROJECT.select('p')} FROM platform.projects p WHERE p.organization_id = $1`,
      [organizationId],
    );
    return rows.map((row) => PROJECT.fromRow(row));
  },

  /** Projects in one of `statuses` (not deleted) for which the queue `jobName` holds no live job. */
  async stuckInTransition(db: EntityManager, statuses: string[], jobName: string): Promise<Project[]> {
    const rows = await db.query<Row[]>(
      `SELECT ${PROJECT.select('p')} FROM platform.projects p
       WHERE p.status = ANY($1) AND p.deleted_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = $2 AND j.singleton_key = p.id::text
                         AND j.state < 'completed')`,
      [statuses, jobName],
    );
    return rows.map((row) => PROJECT.fromRow(row));
  },

  /** Ids of projects deleted before `before` (in organizations that are not deleted themselves). */
  async deletedBefore(db: EntityManager, before: Date): Promise<string[]> {
    const rows = await db.query<{ id: string }[]>(
      `SELECT p.id FROM platform.projects p JOIN platform.organizations o ON o.id = p.organization_id
       WHERE p.deleted_at <= $1 AND o.deleted_at IS NULL AND p.status = $2`,
      [before, ProjectStatus.GOING_DOWN],
    );
    return rows.map((row) => row.id);
  },

  /** A page of the organization's deleted projects, in (created_at, id) order, with their total. */
  async deletedOf(db: DataSource, organizationId: string, window: PageWindow): Promise<Rows<Project>> {
    const rows = await leanQuery<Row>(
      db,
      `SELECT * FROM (
         SELECT ${PROJECT.select('p')}, count(*) OVER () AS total FROM platform.projects p
         WHERE p.organization_id = $1 AND p.deleted_at IS NOT NULL) page
       WHERE $2::timestamptz IS NULL OR (page.created_at, page.id) > ($2::timestamptz, $3::uuid)
       ORDER BY page.created_at, page.id LIMIT $4`,
      [organizationId, window.after?.createdAt ?? null, window.after?.id ?? null, window.limit + 1],
    );
    return { rows: rows.map((row) => PROJECT.fromRow(row)), totalCount: rows.length ? Number(rows[0].total) : 0 };
  },

  /** Marks a project deleted: GOING_DOWN, remembering its status; null when it was already deleted. */
  async markDeleted(tx: EntityManager, id: string): Promise<Project | null> {
    const [rows] = await tx.query<[Row[], number]>(
      `UPDATE platform.projects SET status_before_deletion = status, status = $2, deleted_at = now(), updated_at = now()
       WHERE id = $1 AND deleted_at IS NULL RETURNING ${PROJECT.select('projects')}`,
      [id, ProjectStatus.GOING_DOWN],
    );
    return rows.length ? PROJECT.fromRow(rows[0]) : null;
  },

  /** Brings a deleted project back to the status it had; null when it is not deleted, or was deleted before `since`. */
  async undelete(tx: EntityManager, id: string, since: Date): Promise<Project | null> {
    const [rows] = await tx.query<[Row[], number]>(
      `UPDATE platform.projects SET status = coalesce(status_before_deletion, $2), status_before_deletion = NULL,
              deleted_at = NULL, updated_at = now()
       WHERE id = $1 AND deleted_at > $4 AND status = $3 RETURNING ${PROJECT.select('projects')}`,
      [id, ProjectStatus.PAUSED, ProjectStatus.GOING_DOWN, since],
    );
    return rows.length ? PROJECT.fromRow(rows[0]) : null;
  },

  /** The row goes once the provisioner removed the project; its ref is free again. */
  async purge(tx: EntityManager, id: string): Promise<void> {
    await tx.query('DELETE FROM platform.projects WHERE id = $1 AND deleted_at IS NOT NULL', [id]);
  },

  /** Credentials of projects (secret columns still encrypted). */
  async credentials(db: DataSource, projectIds: readonly string[]): Promise<Credential[]> {
    const { params, add } = parameters();
    const rows = await leanQuery<Row>(
      db,
      `SELECT ${CREDENTIAL.select('c')} FROM platform.credentials c WHERE ${matching('c.project_id', projectIds, add)}`,
      params,
    );
    return rows.map((row) => CREDENTIAL.fromRow(row));
  },

  /** Replaces a project's keys; false when the project is gone. */
  async replaceCredentials(
    tx: EntityManager,
    projectId: string,
    keys: Pick<Credential, 'anonKey' | 'serviceRoleKey' | 'jwtSecret'>,
  ): Promise<boolean> {
    const [, count] = await tx.query<[unknown[], number]>(
      `UPDATE platform.credentials SET anon_key = $2, service_role_key = $3, jwt_secret = $4, updated_at = now()
       WHERE project_id = $1 AND EXISTS (SELECT 1 FROM platform.projects p WHERE p.id = $1 AND p.deleted_at IS NULL)`,
      [projectId, keys.anonKey, keys.serviceRoleKey, keys.jwtSecret],
    );
    return count > 0;
  },
};
