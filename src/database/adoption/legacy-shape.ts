import { ProjectStatus } from '../../entities/project.entity';

/** Where a legacy `platform` schema goes, whole, before the migrations build the current one. */
export const LEGACY_SCHEMA = 'platform_legacy';

/**
 * The tables and columns of the database that the hand-written SQL migrations 001-004 built
 * (shared/seeds/002): what adoption reads. Other tables and columns are left in platform_legacy.
 */
export const LEGACY_COLUMNS = {
  organizations: ['id', 'name', 'slug', 'billing_email', 'created_at', 'updated_at'],
  projects: ['id', 'name', 'ref', 'organization_id', 'region', 'status', 'created_at', 'updated_at'],
  credentials: ['id', 'project_id', 'anon_key', 'service_role_key', 'jwt_secret', 'created_at', 'updated_at'],
  users: ['id', 'email', 'hashed_password', 'display_name', 'created_at', 'last_login_at'],
  user_roles: ['id', 'user_id', 'organization_id', 'role', 'created_at'],
  permissions: ['id', 'user_id', 'project_id', 'access_level', 'granted_at'],
  schema_migrations: ['migration_name', 'applied_at'],
} as const;

export type LegacyTable = keyof typeof LEGACY_COLUMNS;

/** A legacy value's counterpart here, by kind; legacy values are compared trimmed and lower-cased. */
export type LegacyMaps = Record<MapKind, Record<string, string>>;

export type MapKind = 'role' | 'access_level' | 'status';

export const TARGETS: Record<MapKind, readonly string[]> = {
  role: ['owner', 'admin', 'member', 'viewer'],
  access_level: ['read', 'write', 'admin'],
  status: Object.values(ProjectStatus),
};

/** The mappings adoption knows without being told; `--map kind:legacy=ours` adds to them. */
export function defaultMaps(): LegacyMaps {
  const same = (values: readonly string[]) => Object.fromEntries(values.map((v) => [v.toLowerCase(), v]));
  return {
    role: same(TARGETS.role),
    access_level: {
      ...same(TARGETS.access_level),
      readonly: 'read',
      read_only: 'read',
      viewer: 'read',
      read_write: 'write',
      readwrite: 'write',
      editor: 'write',
      developer: 'write',
      owner: 'admin',
    },
    status: { ...same(TARGETS.status), active: ProjectStatus.ACTIVE_HEALTHY },
  };
}

/** Adds `kind:legacy=ours` to the maps; a wrong kind or target is an Error naming the choices. */
export function addMapping(maps: LegacyMaps, spec: string): void {
  const match = /^([a-z_]+):(.+)=(.+)$/.exec(spec);
  const kind = match?.[1] as MapKind | undefined;
  if (!match || !kind || !(kind in TARGETS)) {
    throw new Error(
      `--map ${spec}: expected role:<legacy>=<ours>, access_level:<legacy>=<ours> or status:<legacy>=<ours>`,
    );
  }
  const target = TARGETS[kind].find((value) => value.toLowerCase() === match[3].trim().toLowerCase());
  if (!target) throw new Error(`--map ${spec}: ${kind} maps onto one of ${TARGETS[kind].join(', ')}`);
  maps[kind][match[2].trim().toLowerCase()] = target;
}

export type Detected =
  | { kind: 'legacy'; tables: Map<string, Set<string>> }
  | { kind: 'current'; adopted: boolean }
  | { kind: 'unknown'; reasons: string[] };

/** Decides what the `platform` schema holds: the legacy shape, this project's own, or neither. */
export function detect(tables: Map<string, Set<string>>, legacySchemaExists: boolean): Detected {
  if (tables.has('migrations')) return { kind: 'current', adopted: legacySchemaExists };
  if (tables.size === 0) return { kind: 'unknown', reasons: ['schema platform holds no tables'] };
  const reasons: string[] = [];
  for (const [table, columns] of Object.entries(LEGACY_COLUMNS)) {
    const found = tables.get(table);
    if (!found) reasons.push(`table platform.${table} is missing`);
    else
      for (const column of columns)
        if (!found.has(column)) reasons.push(`column platform.${table}.${column} is missing`);
  }
  if (legacySchemaExists) reasons.push(`schema ${LEGACY_SCHEMA} already exists: rename or drop it first`);
  return reasons.length ? { kind: 'unknown', reasons } : { kind: 'legacy', tables };
}
