import type { DataSource, EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import { Credential } from '../entities/credential.entity';
import { ProjectGrant, type AccessLevel } from '../entities/project-grant.entity';
import { Project, ProjectStatus } from '../entities/project.entity';
import type { OrganizationRole } from '../entities/user-role.entity';
import type { ProjectPermission } from '../permissions';
import { matching } from './matching';
import type { PageWindow, Rows } from './organization-details';
import { CREDENTIAL, PROJECT } from './shapes';
import { callerMay, callerSees, parameters } from './visibility';

/** A project as the caller sees it: with their role in its organization, their grant, and its credentials. */
export interface ProjectRow {
  project: Project;
  role: OrganizationRole | null;
  grant: AccessLevel | null;
  credential: Credential | null;
}

type Row = Record<string, unknown>;

/** Paused and removed projects do not count against a plan's limit; every other status does. */
export const INACTIVE_PROJECT_STATUSES = [ProjectStatus.PAUSED, ProjectStatus.REMOVED];

export const projectRepository = {
  /**
   * Projects by id or ref with the caller's role and grant and the credentials (still encrypted),
   * in one statement: a project page nearly always asks for its keys next.
   */
  async withAccess(
    db: DataSource,
    viewerId: string | null,
    column: 'id' | 'ref',
    keys: readonly string[],
  ): Promise<ProjectRow[]> {
    const { params, add } = parameters([viewerId]);
    const rows = await leanQuery<Row>(
      db,
      `SELECT ${PROJECT.select('p')}, r.role AS viewer_role, g.access_level AS viewer_grant, ${CREDENTIAL.select('c', 'c_')}
       FROM projects p
       LEFT JOIN user_roles r ON r.organization_id = p.organization_id AND r.user_id = $1
       LEFT JOIN permissions g ON g.project_id = p.id AND g.user_id = $1
       LEFT JOIN credentials c ON c.project_id = p.id
       WHERE ${matching(`p.${column}`, keys, add)}`,
      params,
    );
    return rows.map((row) => ({
      project: PROJECT.fromRow(row),
      role: (row.viewer_role as OrganizationRole | null) ?? null,
      grant: (row.viewer_grant as AccessLevel | null) ?? null,
      credential: row.c_id === null ? null : CREDENTIAL.fromRow(row, 'c_'),
    }));
  },

  /**
   * The projects the caller sees in each organization, a page of each after the same cursor, with
   * each total, in one statement. One organization is matched by equality (see `matching`).
   */
  async pagesFor(
    db: DataSource,
    viewerId: string,
    organizationIds: readonly string[],
    window: PageWindow,
  ): Promise<Map<string, Rows<Project>>> {
    const { params, add } = parameters([viewerId, window.after?.createdAt ?? null, window.after?.id ?? null]);
    const visible = callerSees({ project: 'p', role: 'r.role', viewer: '$1' }, add);
    const rows = await leanQuery<Row>(
      db,
      `WITH visible AS (
         SELECT ${PROJECT.select('p')} FROM projects p
         JOIN user_roles r ON r.organization_id = p.organization_id AND r.user_id = $1
         WHERE ${matching('p.organization_id', organizationIds, add)} AND ${visible}
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
   * Renames a project in one statement that also checks the caller holds `permission` on it.
   * Null when nothing matched: the project is gone, hidden from the caller, or not theirs to change.
   */
  async renameAsCaller(
    db: DataSource,
    caller: { viewerId: string; permission: ProjectPermission },
    locator: { id: string } | { ref: string },
    name: string,
  ): Promise<Project | null> {
    const { params, add } = parameters([caller.viewerId]);
    const allowed = callerMay(caller.permission, { project: 'p', role: 'r.role', viewer: '$1' }, add);
    const where = 'id' in locator ? `p.id = ${add(locator.id)}` : `p.ref = ${add(locator.ref)}`;
    const rows = await leanQuery<Row>(
      db,
      `UPDATE projects p SET name = ${add(name)}, updated_at = now()
       FROM user_roles r
       WHERE ${where} AND r.organization_id = p.organization_id AND r.user_id = $1 AND ${allowed}
       RETURNING ${PROJECT.select('p')}`,
      params,
    );
    return rows.length ? PROJECT.fromRow(rows[0]) : null;
  },

  async insert(
    tx: EntityManager,
    values: Pick<Project, 'name' | 'ref' | 'region' | 'organizationId' | 'status'>,
    credential: Pick<Credential, 'anonKey' | 'serviceRoleKey' | 'jwtSecret'>,
    creatorGrant: { userId: string; accessLevel: AccessLevel },
  ): Promise<Project> {
    const project = await tx.save(tx.create(Project, values));
    await tx.insert(Credential, { projectId: project.id, ...credential });
    await tx.insert(ProjectGrant, { projectId: project.id, ...creatorGrant });
    return project;
  },

  /** Moves the status from `from` to `to` (a compare-and-set); the project, or null when it was not in `from`. */
  async transition(tx: EntityManager, id: string, from: ProjectStatus, to: ProjectStatus): Promise<Project | null> {
    const result = await tx.update(Project, { id, status: from }, { status: to });
    return result.affected ? tx.findOneBy(Project, { id }) : null;
  },

  byId(tx: EntityManager, id: string): Promise<Project | null> {
    return tx.findOneBy(Project, { id });
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
      .getCount();
  },

  /** Credentials of projects (secret columns still encrypted). */
  async credentials(db: DataSource, projectIds: readonly string[]): Promise<Credential[]> {
    const { params, add } = parameters();
    const rows = await leanQuery<Row>(
      db,
      `SELECT ${CREDENTIAL.select('c')} FROM credentials c WHERE ${matching('c.project_id', projectIds, add)}`,
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
    return Boolean((await tx.update(Credential, { projectId }, keys)).affected);
  },
};
