import { seesAllProjects } from '../auth/permissions';
import type { Project, ProjectStatus } from '../entities/project.entity';
import { UserRole, type OrganizationRole } from '../entities/user-role.entity';
import type { User } from '../entities/user.entity';
import type { ProjectPageKey, ProjectPageRows } from './project-pages';
import { hydrate } from './hydrate';
import { buildProject } from './project-row';

/** What to read with an organization, in the same statement, when the query asks for it. */
export interface OrganizationDetails {
  members: boolean;
  /** A page of the projects the caller sees. */
  projectPage: { limit: number; after: { createdAt: Date; id: string } | null } | null;
}

type Row = Record<string, unknown>;

/** Times inside JSON travel as epoch milliseconds: a number is far cheaper to turn into a Date than ISO text. */
const epochMs = (column: string) => `round(date_part('epoch', date_trunc('milliseconds', ${column})) * 1000)`;

/** The roles that see every project of their organization, as SQL wants them. */
const ROLES_SEEING_ALL = (['owner', 'admin', 'member', 'viewer'] as OrganizationRole[]).filter(seesAllProjects);

/**
 * Extra columns for a statement that reads organizations: `org` and `role` are the SQL
 * expressions of the organization's id and the caller's role in it; `viewer` is the
 * placeholder of the caller's id. Members and the project page come as JSON, and only for
 * organizations the caller belongs to. Parameters are appended to `params`.
 */
export function detailColumns(
  details: OrganizationDetails,
  org: string,
  role: string,
  viewer: string,
  params: unknown[],
) {
  const add = (value: unknown) => `$${params.push(value)}`;
  const columns: string[] = [];
  if (details.members) {
    columns.push(`CASE WHEN ${role} IS NOT NULL THEN (
        SELECT json_agg(json_build_object('role_id', mr.id, 'user_id', mr.user_id, 'role', mr.role, 'id', u.id,
                 'created_at', ${epochMs('u.created_at')}, 'updated_at', ${epochMs('u.updated_at')}, 'email', u.email,
                 'display_name', u.display_name, 'last_login_at', ${epochMs('u.last_login_at')}) ORDER BY mr.created_at, mr.id)
        FROM user_roles mr JOIN users u ON u.id = mr.user_id WHERE mr.organization_id = ${org}) END AS detail_members`);
  }
  const page = details.projectPage;
  if (page) {
    const visible = `p.organization_id = ${org} AND (${role} = ANY(${add(ROLES_SEEING_ALL)}::text[])
        OR EXISTS (SELECT 1 FROM permissions g WHERE g.project_id = p.id AND g.user_id = ${viewer}))`;
    const afterAt = add(page.after?.createdAt ?? null);
    const afterId = add(page.after?.id ?? null);
    const isAfter = `(${afterAt}::timestamptz IS NULL OR (p.created_at, p.id) > (${afterAt}::timestamptz, ${afterId}::uuid))`;
    // One pass over the organization's visible projects gives both the total and the page: rows
    // after the cursor are numbered first, in page order, and the first limit + 1 of them kept.
    columns.push(`CASE WHEN ${role} IS NOT NULL THEN (
        SELECT json_build_array(count(*), coalesce(json_agg(json_build_array(
                 v.id, v.name, v.ref, v.region, v.status, v.created_ms, v.updated_ms)
                 ORDER BY v.n) FILTER (WHERE v.after AND v.n <= ${add(page.limit + 1)}), '[]'))
        FROM (
          SELECT p.id, p.name, p.ref, p.region, p.status,
                 ${epochMs('p.created_at')} AS created_ms, ${epochMs('p.updated_at')} AS updated_ms,
                 ${isAfter} AS after,
                 row_number() OVER (ORDER BY ${isAfter} DESC, p.created_at, p.id) AS n
          FROM projects p WHERE ${visible}) v) END AS detail_projects`);
  }
  return columns.map((column) => `, ${column}`).join('');
}

const toDate = (value: unknown): Date | null => (typeof value === 'number' ? new Date(value) : null);

type ProjectTuple = [string, string, string, string, ProjectStatus, number, number];

function projectFromTuple(
  organizationId: string,
  [id, name, ref, region, status, created, updated]: ProjectTuple,
): Project {
  return buildProject(id, new Date(created), new Date(updated), name, ref, organizationId, region, status);
}

export interface DetailTargets {
  primeMembers(organizationId: string, roles: UserRole[], users: User[]): void;
  primeProjectPage(key: ProjectPageKey, page: ProjectPageRows): void;
}

/** Hands the members and project page read with an organization to the loaders that serve those fields. */
export function primeDetails(
  targets: DetailTargets,
  details: OrganizationDetails,
  organizationId: string,
  role: OrganizationRole | null,
  row: Row,
  toUser: (row: Row) => User,
): void {
  if (!role) return;
  if (details.members) {
    const members = (row.detail_members as Row[] | null) ?? [];
    targets.primeMembers(
      organizationId,
      members.map((m) => hydrate(UserRole, { id: m.role_id, organizationId, userId: m.user_id, role: m.role })),
      members.map((m) =>
        toUser({
          ...m,
          created_at: toDate(m.created_at),
          updated_at: toDate(m.updated_at),
          last_login_at: toDate(m.last_login_at),
        }),
      ),
    );
  }
  const page = details.projectPage;
  // [total, [[id, name, ref, region, status, created ms, updated ms], ...]]: arrays, not objects, to build and parse.
  const projects = row.detail_projects as [number, ProjectTuple[]] | null;
  if (page && projects) {
    const rows = projects[1].map((tuple) => projectFromTuple(organizationId, tuple));
    targets.primeProjectPage(
      { organizationId, seesAll: seesAllProjects(role), limit: page.limit, after: page.after },
      { rows, totalCount: projects[0] },
    );
  }
}
