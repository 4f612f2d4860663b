import type { DataSource } from 'typeorm';
import type { Project, ProjectStatus } from '../entities/project.entity';
import { projectFromRow } from './project-row';
import { leanQuery } from './request-database';

export interface ProjectPageKey {
  organizationId: string;
  /** Whether the caller sees all of the organization's projects, or only those granted to them. */
  seesAll: boolean;
  limit: number;
  after: { createdAt: Date; id: string } | null;
}

export interface ProjectPageRows {
  rows: Project[];
  totalCount: number;
}

/** Page keys are values: the same organization, visibility, size and cursor is the same page. */
export function projectPageCacheKey(key: ProjectPageKey): string {
  return `${key.organizationId}|${key.seesAll}|${key.limit}|${key.after?.createdAt.toISOString() ?? ''}|${key.after?.id ?? ''}`;
}

interface Row {
  id: string;
  name: string;
  ref: string;
  organization_id: string;
  region: string;
  status: ProjectStatus;
  created_at: Date;
  updated_at: Date;
  total: string;
}

/**
 * The projects of a group's organizations that the caller sees, and the statement's first two
 * parameters: for one organization, its id and whether the caller sees all of it; for several,
 * the ids and those of them the caller sees all of. One organization is matched by equality, as
 * `matching` in loaders.ts does: the statement is planned generically, and a plan for an array
 * assumes ten ids (here it expected 27 projects where an organization has 5, and ran in 114 µs
 * against 99 µs with equality).
 */
function visibleTo(group: readonly ProjectPageKey[]): { predicate: string; params: [unknown, unknown] } {
  const granted = 'EXISTS (SELECT 1 FROM permissions g WHERE g.project_id = p.id AND g.user_id = $3)';
  if (group.length === 1) {
    return {
      predicate: `p.organization_id = $1::uuid AND ($2::boolean OR ${granted})`,
      params: [group[0].organizationId, group[0].seesAll],
    };
  }
  return {
    predicate: `p.organization_id = ANY($1::uuid[]) AND (p.organization_id = ANY($2::uuid[]) OR ${granted})`,
    params: [group.map((k) => k.organizationId), group.filter((k) => k.seesAll).map((k) => k.organizationId)],
  };
}

/**
 * One statement for the project pages of many organizations at once (those with the same
 * page size and cursor): per organization, the count of projects visible to the caller and
 * the first `limit + 1` of them after the cursor in (created_at, id) order.
 */
export async function loadProjectPages(
  db: DataSource,
  viewerId: string,
  keys: readonly ProjectPageKey[],
): Promise<ProjectPageRows[]> {
  const groups = new Map<string, ProjectPageKey[]>();
  for (const key of keys) {
    const shape = `${key.limit}|${key.after?.createdAt.toISOString() ?? ''}|${key.after?.id ?? ''}`;
    groups.set(shape, [...(groups.get(shape) ?? []), key]);
  }
  const results = new Map<ProjectPageKey, ProjectPageRows>();
  for (const group of groups.values()) {
    const { limit, after } = group[0];
    const visible = visibleTo(group);
    const rows = await leanQuery<Row>(
      db,
      `WITH visible AS (
         SELECT p.id, p.name, p.ref, p.organization_id, p.region, p.status, p.created_at, p.updated_at
         FROM projects p
         WHERE ${visible.predicate}
       ), totals AS (
         SELECT organization_id, count(*) AS total FROM visible GROUP BY organization_id
       )
       SELECT page.*, totals.organization_id, totals.total
       FROM totals
       LEFT JOIN LATERAL (
         SELECT v.id, v.name, v.ref, v.region, v.status, v.created_at, v.updated_at
         FROM visible v
         WHERE v.organization_id = totals.organization_id
           AND ($4::timestamptz IS NULL OR (v.created_at, v.id) > ($4::timestamptz, $5::uuid))
         ORDER BY v.created_at, v.id
         LIMIT $6
       ) page ON true
       ORDER BY totals.organization_id, page.created_at, page.id`,
      [...visible.params, viewerId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    for (const key of group) {
      const mine = rows.filter((row) => row.organization_id === key.organizationId);
      results.set(key, {
        rows: mine
          .filter((row) => row.id !== null)
          .map((row) => projectFromRow(row as unknown as Record<string, unknown>)),
        totalCount: mine.length ? Number(mine[0].total) : 0,
      });
    }
  }
  return keys.map((key) => results.get(key) as ProjectPageRows);
}
