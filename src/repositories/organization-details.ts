import type { Project } from '../entities/project.entity';
import type { UserRole, OrganizationRole } from '../entities/user-role.entity';
import type { User } from '../entities/user.entity';
import { MEMBERSHIP, PROJECT, USER } from './shapes';
import { callerSees, type PrincipalTables } from './visibility';

/** A page of a list in (created_at, id) order: at most `limit` rows after the cursor. */
export interface PageWindow {
  limit: number;
  after: { createdAt: Date; id: string } | null;
}

/** What to read with an organization, in the same statement, when the query asks for it. */
export interface OrganizationDetails {
  /** A page of its members, with their users. */
  memberPage: PageWindow | null;
  /** A page of the projects the caller sees. */
  projectPage: PageWindow | null;
}

export interface Rows<T> {
  rows: T[];
  totalCount: number;
}

/** What came with an organization: its member page (memberships with their users) and project page. */
export interface DetailRows {
  members: Rows<{ membership: UserRole; user: User }> | null;
  projects: Rows<Project> | null;
}

type Row = Record<string, unknown>;

/**
 * One pass over a filtered set gives both its total and a page: rows after the cursor are
 * numbered first, in page order, and the first limit + 1 of them kept (the extra one says there is more).
 */
function pageOf(tuple: string, from: string, window: PageWindow, alias: string, add: (v: unknown) => string): string {
  const afterAt = add(window.after?.createdAt ?? null);
  const afterId = add(window.after?.id ?? null);
  const isAfter = `(${afterAt}::timestamptz IS NULL OR (${alias}.created_at, ${alias}.id) > (${afterAt}::timestamptz, ${afterId}::uuid))`;
  return `(SELECT json_build_array(count(*), coalesce(json_agg(v.tuple ORDER BY v.n)
            FILTER (WHERE v.after AND v.n <= ${add(window.limit + 1)}), '[]'))
          FROM (SELECT ${tuple} AS tuple, ${isAfter} AS after,
                       row_number() OVER (ORDER BY ${isAfter} DESC, ${alias}.created_at, ${alias}.id) AS n
                FROM ${from}) v)`;
}

/**
 * Extra columns for a statement that reads organizations: `org` and `role` are the SQL
 * expressions of the organization's id and the caller's role in it; `viewer` is the
 * placeholder of the caller's id. Pages come as JSON, and only for organizations the caller belongs to.
 */
export function detailColumns(
  details: OrganizationDetails,
  on: { org: string; role: string; viewer: string; tables: PrincipalTables },
  add: (value: unknown) => string,
): string {
  const columns: string[] = [];
  if (details.memberPage) {
    const tuple = `json_build_array(${MEMBERSHIP.tuple('m')}, ${USER.tuple('u')})`;
    const from = `platform.user_roles m JOIN platform.users u ON u.id = m.user_id WHERE m.organization_id = ${on.org}`;
    columns.push(
      `CASE WHEN ${on.role} IS NOT NULL THEN ${pageOf(tuple, from, details.memberPage, 'm', add)} END AS detail_members`,
    );
  }
  if (details.projectPage) {
    const visible = callerSees({ project: 'p', role: on.role, viewer: on.viewer, tables: on.tables }, add);
    const from = `platform.projects p WHERE p.organization_id = ${on.org} AND p.deleted_at IS NULL AND ${visible}`;
    columns.push(
      `CASE WHEN ${on.role} IS NOT NULL THEN ${pageOf(PROJECT.tuple('p'), from, details.projectPage, 'p', add)} END AS detail_projects`,
    );
  }
  return columns.map((column) => `, ${column}`).join('');
}

/** The pages read with an organization's row, as entity objects. */
export function detailRows(details: OrganizationDetails, role: OrganizationRole | null, row: Row): DetailRows {
  const result: DetailRows = { members: null, projects: null };
  if (!role) return result;
  const members = row.detail_members as [number, [unknown[], unknown[]][]] | null;
  if (details.memberPage && members) {
    result.members = {
      totalCount: members[0],
      rows: members[1].map(([membership, user]) => ({
        membership: MEMBERSHIP.fromTuple(membership),
        user: USER.fromTuple(user),
      })),
    };
  }
  const projects = row.detail_projects as [number, unknown[][]] | null;
  if (details.projectPage && projects) {
    result.projects = { totalCount: projects[0], rows: projects[1].map((tuple) => PROJECT.fromTuple(tuple)) };
  }
  return result;
}
