import { seesAllProjects } from '../auth/permissions';
import type { Project } from '../entities/project.entity';
import { UserRole, type OrganizationRole } from '../entities/user-role.entity';
import type { User } from '../entities/user.entity';
import { projectFromRow } from './project-row';
import type { ProjectPageKey, ProjectPageRows } from './project-pages';
import { hydrate } from './hydrate';

/** What to read with an organization, in the same statement, when the query asks for it. */
export interface OrganizationDetails {
  members: boolean;
  /** A page of the projects the caller sees. */
  projectPage: { limit: number; after: { createdAt: Date; id: string } | null } | null;
}

type Row = Record<string, unknown>;

/** Times inside JSON travel as epoch milliseconds: a number is far cheaper to turn into a Date than ISO text. */
const epochMs = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

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
    columns.push(`CASE WHEN ${role} IS NOT NULL THEN (SELECT count(*) FROM projects p WHERE ${visible}) END
        AS detail_project_total`);
    columns.push(`CASE WHEN ${role} IS NOT NULL THEN (
        SELECT json_agg(v ORDER BY v.created_ms, v.id) FROM (
          SELECT p.id, p.name, p.ref, p.organization_id, p.region, p.status,
                 ${epochMs('p.created_at')} AS created_ms, ${epochMs('p.updated_at')} AS updated_ms
          FROM projects p WHERE ${visible}
            AND (${afterAt}::timestamptz IS NULL OR (p.created_at, p.id) > (${afterAt}::timestamptz, ${afterId}::uuid))
          ORDER BY p.created_at, p.id LIMIT ${add(page.limit + 1)}) v) END AS detail_projects`);
  }
  return columns.map((column) => `, ${column}`).join('');
}

const toDate = (value: unknown): Date | null => (typeof value === 'number' ? new Date(value) : null);

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
  if (page) {
    const rows: Project[] = ((row.detail_projects as Row[] | null) ?? []).map((p) =>
      projectFromRow(p, toDate(p.created_ms), toDate(p.updated_ms)),
    );
    targets.primeProjectPage(
      { organizationId, seesAll: seesAllProjects(role), limit: page.limit, after: page.after },
      { rows, totalCount: Number(row.detail_project_total) },
    );
  }
}
