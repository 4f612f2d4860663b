import { Kind, parse, type SelectionSetNode } from 'graphql';
import type { LoadedDataSet } from './data-set';

export type Side = 'ours' | 'postgraphile';

/** One GraphQL request as a side sends it: the document, and the variables of the n-th request. */
export interface Operation {
  query: string;
  /** Sent as a trusted document's hash (BENCH_TRUSTED_DOCUMENTS=1, our side only) instead of its text. */
  byHash?: boolean;
  variables: (n: number) => Record<string, unknown>;
  /** What a correct answer holds (for the check before the load), or why it is wrong. */
  check: (data: unknown) => { ok: true; rows: string } | { ok: false; reason: string };
}

export interface Workload {
  id: number;
  name: string;
  /** What it asks, as a studio UI would. */
  description: string;
  ours: Operation;
  /** Null when PostGraphile has no equivalent (log-in). */
  postgraphile: Operation | null;
  /** Counted towards the read-path targets (throughput, p99, statements per request). */
  readPath: boolean;
}

export interface WorkloadInputs {
  data: LoadedDataSet;
  benchUser: { id: string; email: string; password: string };
  /** The user whose statement counts are compared with the benchmark user's (fewer rows, same documents). */
  smallUser: { id: string };
}

/** Nested selection sets: `{ a { b } }` is 2. */
export function queryDepth(query: string): number {
  const depthOf = (set: SelectionSetNode | undefined): number => {
    if (!set) return 0;
    let deepest = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD || selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, depthOf(selection.selectionSet));
      }
    }
    return 1 + deepest;
  };
  const document = parse(query);
  let depth = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) depth = Math.max(depth, depthOf(definition.selectionSet));
  }
  return depth;
}

type Json = Record<string, unknown>;

function at(data: unknown, ...path: string[]): unknown {
  let current: unknown = data;
  for (const key of path) current = (current as Json | null | undefined)?.[key];
  return current;
}

function count(value: unknown): number {
  return Array.isArray(value) ? value.length : -1;
}

function rotate<T>(items: readonly T[], n: number): T {
  return items[n % items.length];
}

const PROJECT_FIELDS_OURS = 'id ref name status region';
const PROJECT_FIELDS_THEIRS = 'rowId ref name status region';

export function workloads(inputs: WorkloadInputs): Workload[] {
  const { data, benchUser } = inputs;
  const orgSlugs = data.adminOrganizationSlugs;
  const projectRefs = data.adminProjectRefs;
  return [
    {
      id: 1,
      name: 'dashboard',
      description: 'my organizations (first 20) with their projects (first 20 each) and my role',
      readPath: true,
      ours: {
        query: `query Dashboard {
          organizations {
            totalCount
            nodes { id slug name myRole projects { totalCount nodes { ${PROJECT_FIELDS_OURS} } } }
          }
        }`,
        variables: () => ({}),
        check: (d) => {
          const nodes = at(d, 'organizations', 'nodes') as Json[] | undefined;
          if (!Array.isArray(nodes) || nodes.length === 0) return { ok: false, reason: 'no organizations' };
          const projects = nodes.reduce((sum, node) => sum + count(at(node, 'projects', 'nodes')), 0);
          return { ok: true, rows: `${nodes.length} organizations, ${projects} projects` };
        },
      },
      postgraphile: {
        query: `query Dashboard($userId: UUID!) {
          userByRowId(rowId: $userId) {
            userRolesByUserId(first: 20, orderBy: PRIMARY_KEY_ASC) {
              totalCount
              nodes {
                role
                organizationByOrganizationId {
                  rowId slug name
                  projectsByOrganizationId(first: 20, orderBy: PRIMARY_KEY_ASC) {
                    totalCount nodes { ${PROJECT_FIELDS_THEIRS} }
                  }
                }
              }
            }
          }
        }`,
        variables: () => ({ userId: benchUser.id }),
        check: (d) => {
          const nodes = at(d, 'userByRowId', 'userRolesByUserId', 'nodes') as Json[] | undefined;
          if (!Array.isArray(nodes) || nodes.length === 0) return { ok: false, reason: 'no organizations' };
          const projects = nodes.reduce(
            (sum, node) => sum + count(at(node, 'organizationByOrganizationId', 'projectsByOrganizationId', 'nodes')),
            0,
          );
          return { ok: true, rows: `${nodes.length} organizations, ${projects} projects` };
        },
      },
    },
    {
      id: 2,
      name: 'organization',
      description: 'one organization (rotating over 16) with its members (user of each) and projects',
      readPath: true,
      ours: {
        query: `query Organization($slug: String!) {
          organization(slug: $slug) {
            id slug name myRole
            members { nodes { role user { id email displayName } } }
            projects { totalCount nodes { ${PROJECT_FIELDS_OURS} } }
          }
        }`,
        variables: (n) => ({ slug: rotate(orgSlugs, n) }),
        check: (d) => {
          const members = count(at(d, 'organization', 'members', 'nodes'));
          const projects = count(at(d, 'organization', 'projects', 'nodes'));
          if (members < 1) return { ok: false, reason: 'no members' };
          return { ok: true, rows: `${members} members, ${projects} projects` };
        },
      },
      postgraphile: {
        query: `query Organization($slug: String!) {
          organizationBySlug(slug: $slug) {
            rowId slug name
            userRolesByOrganizationId(first: 20, orderBy: PRIMARY_KEY_ASC) { totalCount nodes { role userByUserId { rowId email displayName } } }
            projectsByOrganizationId(first: 20, orderBy: PRIMARY_KEY_ASC) { totalCount nodes { ${PROJECT_FIELDS_THEIRS} } }
          }
        }`,
        variables: (n) => ({ slug: rotate(orgSlugs, n) }),
        check: (d) => {
          const members = count(at(d, 'organizationBySlug', 'userRolesByOrganizationId', 'nodes'));
          const projects = count(at(d, 'organizationBySlug', 'projectsByOrganizationId', 'nodes'));
          if (members < 1) return { ok: false, reason: 'no members' };
          return { ok: true, rows: `${members} members, ${projects} projects` };
        },
      },
    },
    {
      id: 3,
      name: 'project',
      description: 'one project (rotating over 80) with its credentials: anon key, service-role key, JWT secret',
      readPath: true,
      ours: {
        query: `query Project($ref: String!) {
          project(ref: $ref) { ${PROJECT_FIELDS_OURS} myAccess credentials { anonKey serviceRoleKey jwtSecret } }
        }`,
        variables: (n) => ({ ref: rotate(projectRefs, n) }),
        check: (d) => {
          const secret = at(d, 'project', 'credentials', 'jwtSecret');
          if (typeof secret !== 'string' || secret.startsWith('enc:'))
            return { ok: false, reason: 'no decrypted secret' };
          return { ok: true, rows: '1 project, 1 credential (secrets decrypted)' };
        },
      },
      postgraphile: {
        query: `query Project($ref: String!) {
          projectByRef(ref: $ref) { ${PROJECT_FIELDS_THEIRS} credentialByProjectId { anonKey serviceRoleKey jwtSecret } }
        }`,
        variables: (n) => ({ ref: rotate(projectRefs, n) }),
        check: (d) => {
          const secret = at(d, 'projectByRef', 'credentialByProjectId', 'jwtSecret');
          if (typeof secret !== 'string') return { ok: false, reason: 'no credential' };
          return { ok: true, rows: '1 project, 1 credential (secrets as stored, encrypted)' };
        },
      },
    },
    {
      id: 4,
      name: 'rename project',
      description: 'updateProject: a new name for one of 80 projects in turn, returning the project',
      readPath: false,
      ours: {
        query: `mutation Rename($ref: String!, $name: String!) {
          updateProject(ref: $ref, input: { name: $name }) { ${PROJECT_FIELDS_OURS} }
        }`,
        variables: (n) => ({ ref: rotate(projectRefs, n), name: `Renamed ${String(n % 1_000_000).padStart(6, '0')}` }),
        check: (d) =>
          typeof at(d, 'updateProject', 'name') === 'string'
            ? { ok: true, rows: '1 project updated' }
            : { ok: false, reason: 'no project' },
      },
      postgraphile: {
        query: `mutation Rename($ref: String!, $name: String!) {
          updateProjectByRef(input: { ref: $ref, projectPatch: { name: $name } }) { project { ${PROJECT_FIELDS_THEIRS} } }
        }`,
        variables: (n) => ({ ref: rotate(projectRefs, n), name: `Renamed ${String(n % 1_000_000).padStart(6, '0')}` }),
        check: (d) =>
          typeof at(d, 'updateProjectByRef', 'project', 'name') === 'string'
            ? { ok: true, rows: '1 project updated' }
            : { ok: false, reason: 'no project' },
      },
    },
    {
      id: 5,
      name: 'logIn',
      description: 'logIn with the right password (argon2id verify, then lastLoginAt written); ours only',
      readPath: false,
      ours: {
        query: `mutation LogIn($email: String!, $password: String!) {
          logIn(input: { email: $email, password: $password }) { accessToken user { id } }
        }`,
        variables: () => ({ email: benchUser.email, password: benchUser.password }),
        check: (d) =>
          typeof at(d, 'logIn', 'accessToken') === 'string'
            ? { ok: true, rows: '1 user' }
            : { ok: false, reason: 'no token' },
      },
      postgraphile: null,
    },
  ];
}

/** Every document our side sends, word for word: the manifest of trusted documents when they are sent by hash. */
export function ourDocuments(): string[] {
  // The documents do not depend on the data set; only their variables do.
  const none = {
    data: { adminOrganizationSlugs: [], adminProjectRefs: [] },
    benchUser: { id: '', email: '', password: '' },
    smallUser: { id: '' },
  } as unknown as WorkloadInputs;
  return workloads(none).map((workload) => workload.ours.query);
}

/** The same documents as the smaller user sees them: statement counts must not change with the data. */
export function smallVariables(workload: Workload, side: Side, inputs: WorkloadInputs): Record<string, unknown> {
  const { small } = inputs.data;
  switch (workload.id) {
    case 1:
      return side === 'ours' ? {} : { userId: inputs.smallUser.id };
    case 2:
      return { slug: small.organizationSlug };
    case 3:
      return { ref: small.projectRef };
    case 4:
      return { ref: small.projectRef, name: 'Renamed small' };
    default:
      return (side === 'ours' ? workload.ours : (workload.postgraphile ?? workload.ours)).variables(0);
  }
}
