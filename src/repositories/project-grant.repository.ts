import type { DataSource, EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import { AccessLevel, type ProjectGrant } from '../entities/project-grant.entity';
import { matching } from './matching';
import type { PageWindow, Rows } from './organization-details';
import { PROJECT_GRANT } from './shapes';
import { parameters, tablesOf } from './visibility';
import type { Principal } from '../permissions';

type Row = Record<string, unknown>;

export const projectGrantRepository = {
  /** The caller's grant on each project (null: none). */
  async levelsOf(db: DataSource, viewer: Principal, projectIds: readonly string[]): Promise<Map<string, AccessLevel>> {
    const { params, add } = parameters([viewer.id]);
    const rows = await leanQuery<Row>(
      db,
      `SELECT project_id, access_level FROM platform.permissions WHERE ${tablesOf(viewer).grantee} = $1 AND ${matching('project_id', projectIds, add)}`,
      params,
    );
    return new Map(rows.map((row) => [row.project_id as string, row.access_level as AccessLevel]));
  },

  /** A page of each project's grants, oldest first, with each total, in one statement. */
  async pagesFor(
    db: DataSource,
    projectIds: readonly string[],
    window: PageWindow,
  ): Promise<Map<string, Rows<ProjectGrant>>> {
    const { params, add } = parameters([window.after?.createdAt ?? null, window.after?.id ?? null]);
    const rows = await leanQuery<Row>(
      db,
      `SELECT * FROM (
         SELECT ${PROJECT_GRANT.select('g')}, count(*) OVER (PARTITION BY g.project_id) AS total,
                ($1::timestamptz IS NULL OR (g.created_at, g.id) > ($1::timestamptz, $2::uuid)) AS after,
                row_number() OVER (PARTITION BY g.project_id
                  ORDER BY ($1::timestamptz IS NULL OR (g.created_at, g.id) > ($1::timestamptz, $2::uuid)) DESC,
                           g.created_at, g.id) AS n
         FROM platform.permissions g WHERE ${matching('g.project_id', projectIds, add)}
       ) page WHERE page.after AND page.n <= ${add(window.limit + 1)} OR page.n = 1
       ORDER BY page.project_id, page.created_at, page.id`,
      params,
    );
    const pages = new Map<string, Rows<ProjectGrant>>(projectIds.map((id) => [id, { rows: [], totalCount: 0 }]));
    for (const row of rows) {
      const page = pages.get(row.project_id as string);
      if (!page) continue;
      page.totalCount = Number(row.total);
      if (row.after) page.rows.push(PROJECT_GRANT.fromRow(row));
    }
    return pages;
  },

  /** Grants or changes a user's or a service account's access (one row per grantee and project). */
  async upsert(
    tx: EntityManager,
    projectId: string,
    grantee: Principal,
    accessLevel: AccessLevel,
  ): Promise<{ grant: ProjectGrant; previous: AccessLevel | null }> {
    const column = tablesOf(grantee).grantee;
    // The sub-select reads the statement's snapshot: the level before this write, for the audit log.
    const [row] = await tx.query<Row[]>(
      `INSERT INTO platform.permissions (project_id, ${column}, access_level) VALUES ($1, $2, $3)
       ON CONFLICT (${column}, project_id) DO UPDATE SET access_level = EXCLUDED.access_level, updated_at = now()
       RETURNING ${PROJECT_GRANT.select('permissions')},
         (SELECT g.access_level FROM platform.permissions g WHERE g.project_id = $1 AND g.${column} = $2) AS previous_level`,
      [projectId, grantee.id, accessLevel],
    );
    return { grant: PROJECT_GRANT.fromRow(row), previous: (row.previous_level as AccessLevel | null) ?? null };
  },

  /** The level the removed grant gave; null when there was none. */
  async delete(tx: EntityManager, projectId: string, grantee: Principal): Promise<AccessLevel | null> {
    const [rows] = await tx.query<[{ access_level: AccessLevel }[], number]>(
      `DELETE FROM platform.permissions WHERE project_id = $1 AND ${tablesOf(grantee).grantee} = $2 RETURNING access_level`,
      [projectId, grantee.id],
    );
    return rows[0]?.access_level ?? null;
  },

  /** Removes a user's grants on every project of an organization. */
  async deleteInOrganization(tx: EntityManager, organizationId: string, userId: string): Promise<void> {
    await tx.query(
      'DELETE FROM platform.permissions WHERE user_id = $1 AND project_id IN (SELECT id FROM platform.projects WHERE organization_id = $2)',
      [userId, organizationId],
    );
  },

  /** Lowers a principal's grants on an organization's projects to read. */
  async lowerToRead(tx: EntityManager, organizationId: string, grantee: Principal): Promise<void> {
    const level = AccessLevel.READ;
    await tx.query(
      `UPDATE platform.permissions SET access_level = $3, updated_at = now()
       WHERE ${tablesOf(grantee).grantee} = $1 AND access_level <> $3
         AND project_id IN (SELECT id FROM platform.projects WHERE organization_id = $2)`,
      [grantee.id, organizationId, level],
    );
  },
};
