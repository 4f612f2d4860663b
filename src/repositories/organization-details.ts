import { seesAllProjects } from '../permissions';
import type { Project, ProjectStatus } from '../entities/project.entity';
import { UserRole, type OrganizationRole } from '../entities/user-role.entity';
import type { User } from '../entities/user.entity';
import type { ProjectPageKey, ProjectPageRows } from '../database/project-pages';
import { hydrate } from '../database/hydrate';
import { buildProject } from '../database/project-row';

/** What to read with an organization, in the same statement, when the query asks for it. */
export interface OrganizationDetails {
  members: boolean;
  /** A page of the projects the caller sees. */
  projectPage: { limit: number; after: { createdAt: Date; id: string } | null } | null;
}

type Row = Record<string, unknown>;

/**
 * Times inside JSON travel as epoch microseconds, an integer: far cheaper to write than ISO text,
 * and, unlike date_trunc, needs no time-zone conversion. date_part's float is microseconds / 1e6
 * rounded once; times 1e6 it stays within 0.25 of the exact count, so the cast to int8 is exact.
 */
const epochMicros = (column: string) => `(date_part('epoch', ${column}) * 1000000)::int8`;

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
        SELECT json_agg(json_build_array(mr.id, mr.role, u.id, ${epochMicros('u.created_at')},
                 ${epochMicros('u.updated_at')}, u.email, u.display_name, ${epochMicros('u.last_login_at')})
                 ORDER BY mr.created_at, mr.id)
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
                 v.id, v.name, v.ref, v.region, v.status, v.created_us, v.updated_us)
                 ORDER BY v.n) FILTER (WHERE v.after AND v.n <= ${add(page.limit + 1)}), '[]'))
        FROM (
          SELECT p.id, p.name, p.ref, p.region, p.status,
                 ${epochMicros('p.created_at')} AS created_us, ${epochMicros('p.updated_at')} AS updated_us,
                 ${isAfter} AS after,
                 row_number() OVER (ORDER BY ${isAfter} DESC, p.created_at, p.id) AS n
          FROM projects p WHERE ${visible}) v) END AS detail_projects`);
  }
  return columns.map((column) => `, ${column}`).join('');
}

/** Floor, as a Date keeps whole milliseconds and pg's own parser truncates. */
const fromMicros = (micros: number): Date => new Date(Math.floor(micros / 1000));

type ProjectTuple = [string, string, string, string, ProjectStatus, number, number];

function projectFromTuple(
  organizationId: string,
  [id, name, ref, region, status, created, updated]: ProjectTuple,
): Project {
  return buildProject(id, fromMicros(created), fromMicros(updated), name, ref, organizationId, region, status);
}

/** [role id, role, user id, created, updated, email, display name, last login]: arrays, not objects, to build and parse. */
type MemberTuple = [string, OrganizationRole, string, number, number, string, string, number | null];

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
    const members = (row.detail_members as MemberTuple[] | null) ?? [];
    targets.primeMembers(
      organizationId,
      members.map(([id, memberRole, userId]) => hydrate(UserRole, { id, organizationId, userId, role: memberRole })),
      members.map(([, , id, created, updated, email, displayName, lastLogin]) =>
        toUser({
          id,
          created_at: fromMicros(created),
          updated_at: fromMicros(updated),
          email,
          display_name: displayName,
          last_login_at: lastLogin === null ? null : fromMicros(lastLogin),
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
