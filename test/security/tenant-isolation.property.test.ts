import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { given, ok, type TestUser } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';
import { holds } from './property';

/** Sequences per CI run; `npm run test:nightly` runs more (PROPERTY_RUNS). */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
const USERS = 4;
const MAX_ORGANIZATIONS = 3;
const MAX_PROJECTS = 3;
const MAX_SERVICE_ACCOUNTS = 2;
/** Principals from this number on are service accounts (acting through an API key); below, users. */
const FIRST_ACCOUNT = 100;

function isAccount(principal: number): boolean {
  return principal >= FIRST_ACCOUNT;
}

/*
 * The model: who is in which organization with which role, and who holds which grant. Its rules
 * are written out here, apart from src/auth/permissions.ts, so that it checks the server rather
 * than repeats it.
 */
type Role = 'owner' | 'admin' | 'member' | 'viewer';
type Level = 'read' | 'write' | 'admin';

interface ProjectModel {
  ref: string;
  grants: Map<number, Level>;
}

interface OrganizationModel {
  slug: string;
  /** Users and service accounts alike, each with its role. */
  members: Map<number, Role>;
  projects: ProjectModel[];
}

interface Model {
  organizations: OrganizationModel[];
}

const MANAGES_MEMBERS: readonly Role[] = ['owner', 'admin'];
/** A request made with an API key never manages members, service accounts, keys or grants, whatever the role. */
const manages = (role: Role, by: number) => MANAGES_MEMBERS.includes(role) && !isAccount(by);
const CREATES_PROJECTS: readonly Role[] = ['owner', 'admin', 'member'];
const SEES_ALL_PROJECTS: readonly Role[] = ['owner', 'admin'];

/** What `user` can do on `project`: everything for owners and admins, the grant for others, at most read for viewers. */
function accessOf(organization: OrganizationModel, project: ProjectModel, user: number): Level | null {
  const role = organization.members.get(user);
  if (!role) return null;
  if (SEES_ALL_PROJECTS.includes(role)) return 'admin';
  const grant = project.grants.get(user) ?? null;
  return role === 'viewer' && grant ? 'read' : grant;
}

function owners(organization: OrganizationModel): number {
  return [...organization.members.values()].filter((role) => role === 'owner').length;
}

type Outcome =
  'OK' | 'UNAUTHENTICATED' | 'NOT_FOUND' | 'FORBIDDEN' | 'CONFLICT' | 'BAD_USER_INPUT' | 'PLAN_LIMIT_REACHED';

/** The real side: the app and a fixed pool of signed-up users (sign-up hashes a password: ~60 ms each). */
interface World {
  app: TestApp;
  users: TestUser[];
  /** The service accounts of the current sequence, by principal number: their id and key. */
  accounts: Map<number, { id: string; secret: string }>;
  accountsMade: number;
  /** Active projects the free plan allows; Infinity when there is no such limit. */
  freeProjects: number;
}

let slugs = 0;

function tokenOf(world: World, principal: number): string {
  return isAccount(principal) ? (world.accounts.get(principal)?.secret ?? '') : world.users[principal].token;
}

function idOf(world: World, principal: number): string {
  return isAccount(principal) ? (world.accounts.get(principal)?.id ?? '') : world.users[principal].id;
}

function who(principal: number): string {
  return isAccount(principal) ? `sa${principal - FIRST_ACCOUNT}` : `u${principal}`;
}

function outcomeOf(response: GraphQLResponse<unknown>): Outcome {
  if (!response.errors) return 'OK';
  assert.equal(response.errors.length, 1, JSON.stringify(response.errors));
  return response.errors[0].extensions.code as Outcome;
}

/**
 * Who acts, or is acted on: mostly someone of the organization (a manager, to get past the door,
 * or any member), sometimes anyone at all.
 */
interface Pick {
  among: 'managers' | 'members' | 'anyone';
  n: number;
}

const pick: fc.Arbitrary<Pick> = fc.record({
  among: fc.constantFrom<Pick['among']>('managers', 'managers', 'members', 'members', 'anyone'),
  n: fc.nat({ max: 11 }),
});

function named(choice: Pick): string {
  return choice.among === 'anyone' ? `u${choice.n % USERS}` : `${choice.among.slice(0, -1)} #${choice.n}`;
}

function resolve(choice: Pick, organization: OrganizationModel): number {
  const members = [...organization.members].filter(
    ([, role]) => choice.among === 'members' || MANAGES_MEMBERS.includes(role),
  );
  if (choice.among === 'anyone' || members.length === 0) return choice.n % USERS;
  return members.map(([member]) => member).sort()[choice.n % members.length];
}

const ROLES: readonly Role[] = ['owner', 'admin', 'member', 'viewer'];
const LEVELS: readonly Level[] = ['read', 'write', 'admin'];

abstract class Step implements fc.AsyncCommand<Model, World> {
  check(model: Readonly<Model>): boolean {
    return model.organizations.length > 0;
  }

  abstract act(model: Model, world: World): Promise<void>;

  async run(model: Model, world: World): Promise<void> {
    await this.act(model, world);
    await everyoneSeesTheModel(model, world, []);
  }

  abstract toString(): string;

  protected organization(model: Model, index: number): OrganizationModel {
    return model.organizations[index % model.organizations.length];
  }
}

class CreateOrganization extends Step {
  constructor(private readonly by: number) {
    super();
  }

  override check(model: Readonly<Model>): boolean {
    return model.organizations.length < MAX_ORGANIZATIONS;
  }

  async act(model: Model, { app, users }: World): Promise<void> {
    slugs += 1;
    const slug = `iso-${slugs}-${randomBytes(3).toString('hex')}`;
    ok(
      await app.gql(
        'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { slug } }',
        { input: { name: 'Isolated', slug } },
        users[this.by].token,
      ),
    );
    model.organizations.push({ slug, members: new Map([[this.by, 'owner']]), projects: [] });
  }

  toString(): string {
    return `u${this.by} creates an organization`;
  }
}

class CreateProject extends Step {
  constructor(
    private readonly who: Pick,
    private readonly org: number,
  ) {
    super();
  }

  async act(model: Model, world: World): Promise<void> {
    const { app, freeProjects } = world;
    const organization = this.organization(model, this.org);
    const by = resolve(this.who, organization);
    const role = organization.members.get(by);
    const expected: Outcome = !role
      ? 'NOT_FOUND'
      : !CREATES_PROJECTS.includes(role)
        ? 'FORBIDDEN'
        : organization.projects.length >= freeProjects
          ? 'PLAN_LIMIT_REACHED'
          : 'OK';
    // More projects teach nothing new and make every check slower.
    if (expected === 'OK' && organization.projects.length >= MAX_PROJECTS) return;
    const response = await app.gql<{ createProject: { ref: string } }>(
      'mutation ($input: CreateProjectInput!) { createProject(input: $input) { ref } }',
      { input: { organizationSlug: organization.slug, name: 'Isolated', region: 'eu-west-1' } },
      tokenOf(world, by),
    );
    assert.equal(outcomeOf(response), expected, `${this.toString()} as ${who(by)} (${role ?? 'outsider'})`);
    if (expected === 'OK') {
      organization.projects.push({ ref: ok(response).createProject.ref, grants: new Map([[by, 'admin']]) });
    }
  }

  toString(): string {
    return `${named(this.who)} creates a project in org #${this.org}`;
  }
}

class AddMember extends Step {
  constructor(
    private readonly who: Pick,
    private readonly org: number,
    private readonly target: number,
    private readonly role: Role,
  ) {
    super();
  }

  async act(model: Model, world: World): Promise<void> {
    const { app, users } = world;
    const organization = this.organization(model, this.org);
    const by = resolve(this.who, organization);
    const byRole = organization.members.get(by);
    const expected: Outcome = !byRole
      ? 'NOT_FOUND'
      : !manages(byRole, by) || (this.role === 'owner' && byRole !== 'owner')
        ? 'FORBIDDEN'
        : organization.members.has(this.target)
          ? 'CONFLICT'
          : 'OK';
    const invited = await app.gql<{ inviteMember: { token: string } }>(
      'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }',
      {
        input: { organizationSlug: organization.slug, email: users[this.target].email, role: this.role.toUpperCase() },
      },
      tokenOf(world, by),
    );
    assert.equal(outcomeOf(invited), expected, `${this.toString()} as ${who(by)} (${byRole ?? 'outsider'})`);
    if (expected !== 'OK') return;
    ok(
      await app.gql(
        'mutation ($token: String!) { acceptInvitation(token: $token) { role } }',
        { token: ok(invited).inviteMember.token },
        users[this.target].token,
      ),
    );
    organization.members.set(this.target, this.role);
  }

  toString(): string {
    return `${named(this.who)} adds u${this.target} to org #${this.org} as ${this.role}`;
  }
}

class ChangeRole extends Step {
  constructor(
    private readonly who: Pick,
    private readonly org: number,
    private readonly whom: Pick,
    private readonly role: Role,
  ) {
    super();
  }

  async act(model: Model, world: World): Promise<void> {
    const organization = this.organization(model, this.org);
    const target = resolve(this.whom, organization);
    if (isAccount(target)) return this.changeAccount(organization, world, target);
    const { app } = world;
    const by = resolve(this.who, organization);
    const byRole = organization.members.get(by);
    const current = organization.members.get(target);
    const touchesOwner = current === 'owner' || this.role === 'owner';
    const expected: Outcome = !byRole
      ? 'NOT_FOUND'
      : !manages(byRole, by)
        ? 'FORBIDDEN'
        : !current
          ? 'NOT_FOUND'
          : touchesOwner && byRole !== 'owner'
            ? 'FORBIDDEN'
            : current === 'owner' && this.role !== 'owner' && owners(organization) <= 1
              ? 'CONFLICT'
              : 'OK';
    const response = await app.gql(
      'mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }',
      { input: { organizationSlug: organization.slug, userId: idOf(world, target), role: this.role.toUpperCase() } },
      tokenOf(world, by),
    );
    assert.equal(outcomeOf(response), expected, `${this.toString()} as ${who(by)} (${byRole ?? 'outsider'})`);
    if (expected === 'OK') this.changed(organization, target);
  }

  /** A service account's role: never owner, changed by whoever manages members (never with a key). */
  private async changeAccount(organization: OrganizationModel, world: World, target: number): Promise<void> {
    const by = resolve(this.who, organization);
    const byRole = organization.members.get(by);
    const expected: Outcome = !byRole
      ? 'NOT_FOUND'
      : !manages(byRole, by)
        ? 'FORBIDDEN'
        : this.role === 'owner'
          ? 'BAD_USER_INPUT'
          : 'OK';
    const response = await world.app.gql(
      'mutation ($id: ID!, $role: OrganizationRole!) { updateServiceAccount(id: $id, input: { role: $role }) { role } }',
      { id: idOf(world, target), role: this.role.toUpperCase() },
      tokenOf(world, by),
    );
    assert.equal(outcomeOf(response), expected, `${this.toString()} as ${who(by)} (${byRole ?? 'outsider'})`);
    if (expected === 'OK') this.changed(organization, target);
  }

  private changed(organization: OrganizationModel, target: number): void {
    organization.members.set(target, this.role);
    // A viewer keeps no grant above read.
    if (this.role === 'viewer') for (const project of organization.projects) capToRead(project, target);
  }

  toString(): string {
    return `${named(this.who)} makes ${named(this.whom)} ${this.role} in org #${this.org}`;
  }
}

abstract class ProjectStep extends Step {
  override check(model: Readonly<Model>): boolean {
    return model.organizations.some((organization) => organization.projects.length > 0);
  }

  protected project(model: Model, org: number, index: number): [OrganizationModel, ProjectModel] {
    const withProjects = model.organizations.filter((organization) => organization.projects.length > 0);
    const organization = withProjects[org % withProjects.length];
    return [organization, organization.projects[index % organization.projects.length]];
  }
}

class Grant extends ProjectStep {
  constructor(
    private readonly who: Pick,
    private readonly org: number,
    private readonly index: number,
    private readonly whom: Pick,
    private readonly level: Level,
  ) {
    super();
  }

  async act(model: Model, world: World): Promise<void> {
    const { app } = world;
    const [organization, project] = this.project(model, this.org, this.index);
    const by = resolve(this.who, organization);
    const target = resolve(this.whom, organization);
    const byAccess = accessOf(organization, project, by);
    const targetRole = organization.members.get(target);
    const expected: Outcome = !byAccess
      ? 'NOT_FOUND'
      : byAccess !== 'admin' || isAccount(by)
        ? 'FORBIDDEN'
        : !targetRole || (targetRole === 'viewer' && this.level !== 'read')
          ? 'BAD_USER_INPUT'
          : 'OK';
    const response = await app.gql(
      'mutation ($input: GrantProjectPermissionInput!) { grantProjectPermission(input: $input) { accessLevel } }',
      { input: { projectRef: project.ref, ...grantee(world, target), accessLevel: this.level.toUpperCase() } },
      tokenOf(world, by),
    );
    assert.equal(outcomeOf(response), expected, `${this.toString()} as ${who(by)} (${byAccess ?? 'no access'})`);
    if (expected === 'OK') project.grants.set(target, this.level);
  }

  toString(): string {
    return `${named(this.who)} grants ${named(this.whom)} ${this.level} on project #${this.org}.${this.index}`;
  }
}

class Revoke extends ProjectStep {
  constructor(
    private readonly who: Pick,
    private readonly org: number,
    private readonly index: number,
    private readonly whom: Pick,
  ) {
    super();
  }

  async act(model: Model, world: World): Promise<void> {
    const { app } = world;
    const [organization, project] = this.project(model, this.org, this.index);
    const by = resolve(this.who, organization);
    const target = resolve(this.whom, organization);
    const byAccess = accessOf(organization, project, by);
    const expected: Outcome = !byAccess
      ? 'NOT_FOUND'
      : byAccess !== 'admin' || isAccount(by)
        ? 'FORBIDDEN'
        : !project.grants.has(target)
          ? 'NOT_FOUND'
          : 'OK';
    const response = await app.gql(
      'mutation ($ref: String!, $userId: ID, $serviceAccountId: ID) { revokeProjectPermission(projectRef: $ref, userId: $userId, serviceAccountId: $serviceAccountId) }',
      { ref: project.ref, ...grantee(world, target) },
      tokenOf(world, by),
    );
    assert.equal(outcomeOf(response), expected, `${this.toString()} as ${who(by)} (${byAccess ?? 'no access'})`);
    if (expected === 'OK') project.grants.delete(target);
  }

  toString(): string {
    return `${named(this.who)} revokes ${named(this.whom)} on project #${this.org}.${this.index}`;
  }
}

/** How a grant names its grantee: a user's id, or a service account's. */
function grantee(world: World, principal: number): Record<string, string> {
  return isAccount(principal) ? { serviceAccountId: idOf(world, principal) } : { userId: idOf(world, principal) };
}

function capToRead(project: { grants: Map<number, Level> }, user: number): void {
  if (project.grants.has(user)) project.grants.set(user, 'read');
}

/** A membership ends with the grants on the organization's projects. */
function dropMember(organization: OrganizationModel, user: number): void {
  organization.members.delete(user);
  for (const project of organization.projects) project.grants.delete(user);
}

class RemoveMember extends Step {
  constructor(
    private readonly who: Pick,
    private readonly org: number,
    private readonly whom: Pick,
  ) {
    super();
  }

  async act(model: Model, world: World): Promise<void> {
    const { app } = world;
    const organization = this.organization(model, this.org);
    const by = resolve(this.who, organization);
    const target = resolve(this.whom, organization);
    if (isAccount(target)) return this.deleteAccount(organization, world, by, target);
    const byRole = organization.members.get(by);
    const current = organization.members.get(target);
    const expected: Outcome = !byRole
      ? 'NOT_FOUND'
      : !manages(byRole, by)
        ? 'FORBIDDEN'
        : !current
          ? 'NOT_FOUND'
          : current === 'owner' && byRole !== 'owner'
            ? 'FORBIDDEN'
            : current === 'owner' && owners(organization) <= 1
              ? 'CONFLICT'
              : 'OK';
    const response = await app.gql(
      'mutation ($slug: String!, $userId: ID!) { removeMember(organizationSlug: $slug, userId: $userId) }',
      { slug: organization.slug, userId: idOf(world, target) },
      tokenOf(world, by),
    );
    assert.equal(outcomeOf(response), expected, `${this.toString()} as ${who(by)} (${byRole ?? 'outsider'})`);
    if (expected === 'OK') dropMember(organization, target);
  }

  /** Deleting a service account: its grants go with it, and its key is refused from the next request on. */
  private async deleteAccount(organization: OrganizationModel, world: World, by: number, target: number) {
    const byRole = organization.members.get(by);
    const expected: Outcome = !byRole ? 'NOT_FOUND' : !manages(byRole, by) ? 'FORBIDDEN' : 'OK';
    const response = await world.app.gql(
      'mutation ($id: ID!) { deleteServiceAccount(id: $id) }',
      { id: idOf(world, target) },
      tokenOf(world, by),
    );
    assert.equal(outcomeOf(response), expected, `${this.toString()} as ${who(by)} (${byRole ?? 'outsider'})`);
    if (expected !== 'OK') return;
    dropMember(organization, target);
    const refused = await world.app.gql('{ viewer { kind } }', {}, tokenOf(world, target));
    assert.equal(outcomeOf(refused), 'UNAUTHENTICATED', `${who(target)}'s key, once it is deleted`);
    world.accounts.delete(target);
  }

  toString(): string {
    return `${named(this.who)} removes ${named(this.whom)} from org #${this.org}`;
  }
}

class Leave extends Step {
  constructor(
    private readonly who: Pick,
    private readonly org: number,
  ) {
    super();
  }

  async act(model: Model, world: World): Promise<void> {
    const { app } = world;
    const organization = this.organization(model, this.org);
    const by = resolve(this.who, organization);
    const role = organization.members.get(by);
    // A service account cannot leave its organization: it is deleted.
    const expected: Outcome = !role
      ? 'NOT_FOUND'
      : isAccount(by)
        ? 'FORBIDDEN'
        : role === 'owner' && owners(organization) <= 1
          ? 'CONFLICT'
          : 'OK';
    const response = await app.gql(
      'mutation ($slug: String!) { leaveOrganization(slug: $slug) }',
      { slug: organization.slug },
      tokenOf(world, by),
    );
    assert.equal(outcomeOf(response), expected, `${this.toString()} as ${who(by)} (${role ?? 'outsider'})`);
    if (expected === 'OK') dropMember(organization, by);
  }

  toString(): string {
    return `${named(this.who)} leaves org #${this.org}`;
  }
}

/** A service account and its API key: then it acts, and is acted on, like any principal. */
class CreateServiceAccount extends Step {
  constructor(
    private readonly who: Pick,
    private readonly org: number,
    private readonly role: Exclude<Role, 'owner'>,
  ) {
    super();
  }

  async act(model: Model, world: World): Promise<void> {
    const organization = this.organization(model, this.org);
    const by = resolve(this.who, organization);
    const byRole = organization.members.get(by);
    const expected: Outcome = !byRole ? 'NOT_FOUND' : !manages(byRole, by) ? 'FORBIDDEN' : 'OK';
    const accounts = [...organization.members.keys()].filter(isAccount).length;
    if (expected === 'OK' && accounts >= MAX_SERVICE_ACCOUNTS) return;
    const response = await world.app.gql<{ createServiceAccount: { id: string } }>(
      'mutation ($input: CreateServiceAccountInput!) { createServiceAccount(input: $input) { id } }',
      {
        input: {
          organizationSlug: organization.slug,
          name: `robot-${randomBytes(3).toString('hex')}`,
          role: this.role.toUpperCase(),
        },
      },
      tokenOf(world, by),
    );
    assert.equal(outcomeOf(response), expected, `${this.toString()} as ${who(by)} (${byRole ?? 'outsider'})`);
    if (expected !== 'OK') return;
    const id = ok(response).createServiceAccount.id;
    const key = ok(
      await world.app.gql<{ createApiKey: { secret: string } }>(
        'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
        { input: { serviceAccountId: id, name: 'ci' } },
        tokenOf(world, by),
      ),
    );
    world.accountsMade += 1;
    const principal = FIRST_ACCOUNT + world.accountsMade;
    world.accounts.set(principal, { id, secret: key.createApiKey.secret });
    organization.members.set(principal, this.role);
  }

  toString(): string {
    return `${named(this.who)} adds a ${this.role} service account to org #${this.org}`;
  }
}

const SEEN = `{
  organizations {
    totalCount
    nodes {
      slug
      myRole
      members { nodes { role user { id } } }
      projects { totalCount nodes { ref myAccess permissions { nodes { accessLevel user { id } serviceAccount { id } } } } }
    }
  }
}`;

interface GrantSeen {
  accessLevel: string;
  user: { id: string } | null;
  serviceAccount: { id: string } | null;
}

interface ProjectSeen {
  ref: string;
  myAccess: string;
  permissions: { nodes: GrantSeen[] };
}

const byUser = (a: { user: { id: string } }, b: { user: { id: string } }) => a.user.id.localeCompare(b.user.id);
const granteeId = (grant: GrantSeen) => grant.user?.id ?? grant.serviceAccount?.id ?? '';
const byGrantee = (a: GrantSeen, b: GrantSeen) => granteeId(a).localeCompare(granteeId(b));

interface Seen {
  organizations: {
    totalCount: number;
    nodes: {
      slug: string;
      myRole: string;
      members: { nodes: { role: string; user: { id: string } }[] };
      projects: { totalCount: number; nodes: ProjectSeen[] };
    }[];
  };
}

/** Everything `user` should see, in the shape of SEEN's answer, sorted. */
function expectedView(model: Model, world: World, user: number) {
  const mine = model.organizations.filter((organization) => organization.members.has(user));
  return mine
    .map((organization) => {
      const projects = organization.projects
        .map((project) => ({ project, access: accessOf(organization, project, user) }))
        .filter(({ access }) => access !== null)
        .map(({ project, access }) => ({
          ref: project.ref,
          myAccess: String(access).toUpperCase(),
          // The grants as stored: a removed member's are gone with the membership.
          permissions: [...project.grants]
            .map(([member, level]) => ({
              accessLevel: level.toUpperCase(),
              user: isAccount(member) ? null : { id: idOf(world, member) },
              serviceAccount: isAccount(member) ? { id: idOf(world, member) } : null,
            }))
            .sort(byGrantee),
        }));
      return {
        slug: organization.slug,
        myRole: String(organization.members.get(user)).toUpperCase(),
        // Members are people: service accounts are listed apart.
        members: [...organization.members]
          .filter(([member]) => !isAccount(member))
          .map(([member, role]) => ({ role: role.toUpperCase(), user: { id: world.users[member].id } }))
          .sort(byUser),
        projects: { totalCount: projects.length, nodes: projects.sort((a, b) => a.ref.localeCompare(b.ref)) },
      };
    })
    .sort((a, b) => a.slug.localeCompare(b.slug));
}

/**
 * Every actor asks what it can see: the list of its organizations with their members, visible
 * projects and their grants. And each organization of `probed`, and each of its projects, that
 * an actor should not see, it asks for by name: one request each, as a failed non-null root
 * field would hide the errors of the others.
 */
async function everyoneSeesTheModel(model: Model, world: World, probed: OrganizationModel[]): Promise<void> {
  const { app } = world;
  const projects = probed.flatMap((organization) =>
    organization.projects.map((project) => ({ organization, project })),
  );
  // Every user, and every service account through its key.
  const principals = [...world.users.keys(), ...world.accounts.keys()];

  const lists = principals.map(async (index) => {
    const seen = ok(await app.gql<Seen>(SEEN, {}, tokenOf(world, index)));
    const view = seen.organizations.nodes
      .map((organization) => ({
        ...organization,
        members: [...organization.members.nodes].sort(byUser),
        projects: {
          totalCount: organization.projects.totalCount,
          nodes: organization.projects.nodes
            .map((project) => ({ ...project, permissions: [...project.permissions.nodes].sort(byGrantee) }))
            .sort((a, b) => a.ref.localeCompare(b.ref)),
        },
      }))
      .sort((a, b) => a.slug.localeCompare(b.slug));
    assert.deepEqual(view, expectedView(model, world, index), `what ${who(index)} sees in its organization list`);
    assert.equal(seen.organizations.totalCount, view.length);
  });

  const hidden = principals.flatMap((index) => [
    ...probed
      .filter((organization) => !organization.members.has(index))
      .map(async (organization) => {
        const response = await app.gql(
          'query ($slug: String!) { organization(slug: $slug) { slug } }',
          { slug: organization.slug },
          tokenOf(world, index),
        );
        assert.equal(outcomeOf(response), 'NOT_FOUND', `${who(index)} asks for ${organization.slug}, not theirs`);
      }),
    ...projects
      .filter(({ organization, project }) => accessOf(organization, project, index) === null)
      .map(async ({ project }) => {
        const response = await app.gql(
          'query ($ref: String!) { project(ref: $ref) { ref credentials { anonKey } } }',
          { ref: project.ref },
          tokenOf(world, index),
        );
        assert.equal(
          outcomeOf(response),
          'NOT_FOUND',
          `${who(index)} asks for project ${project.ref}, not visible to them`,
        );
      }),
  ]);

  await Promise.all([...lists, ...hidden]);
}

const user = fc.nat({ max: USERS - 1 });
const index = fc.nat({ max: 11 });
const role = fc.constantFrom(...ROLES);
const level = fc.constantFrom(...LEVELS);

const createProject = fc.tuple(pick, index).map(([who, org]) => new CreateProject(who, org));
const addMember = fc.tuple(pick, index, user, role).map(([who, org, target, r]) => new AddMember(who, org, target, r));
const changeRole = fc.tuple(pick, index, pick, role).map(([who, org, whom, r]) => new ChangeRole(who, org, whom, r));
const grant = fc
  .tuple(pick, index, index, pick, level)
  .map(([who, org, p, whom, l]) => new Grant(who, org, p, whom, l));
const createServiceAccount = fc
  .tuple(pick, index, fc.constantFrom<Exclude<Role, 'owner'>>('admin', 'member', 'viewer'))
  .map(([who, org, r]) => new CreateServiceAccount(who, org, r));

/** Repeated entries weigh more: a sequence needs members and projects before the rest can bite. */
const steps = [
  user.map((by) => new CreateOrganization(by)),
  createProject,
  createProject,
  addMember,
  addMember,
  addMember,
  changeRole,
  changeRole,
  grant,
  grant,
  createServiceAccount,
  createServiceAccount,
  fc.tuple(pick, index, index, pick).map(([who, org, p, whom]) => new Revoke(who, org, p, whom)),
  fc.tuple(pick, index, pick).map(([who, org, whom]) => new RemoveMember(who, org, whom)),
  fc.tuple(pick, index).map(([who, org]) => new Leave(who, org)),
];

interface Start {
  owner: number;
  members: [number, Role][];
  projects: number;
}

/** Each sequence starts from one or two organizations, each with an owner, some members and projects. */
const start: fc.Arbitrary<Start[]> = fc.array(
  fc.record({
    owner: user,
    members: fc.uniqueArray(fc.tuple(user, role), { maxLength: 3, selector: ([member]) => member }),
    projects: fc.nat({ max: 2 }),
  }),
  { minLength: 1, maxLength: 2 },
);

/** Builds the start through the same steps (their outcomes checked), without the checks after each. */
async function begin(organizations: Start[], world: World): Promise<Model> {
  const model: Model = { organizations: [] };
  for (const [index, { owner, members, projects }] of organizations.entries()) {
    const founder: Pick = { among: 'anyone', n: owner };
    await new CreateOrganization(owner).act(model, world);
    for (const [member, r] of members) await new AddMember(founder, index, member, r).act(model, world);
    for (let p = 0; p < projects; p += 1) await new CreateProject(founder, index).act(model, world);
  }
  return model;
}

describe('tenant isolation, as a property', () => {
  let world: World;

  before(async () => {
    const app = await startTestApp();
    const users = await Promise.all(Array.from({ length: USERS }, () => given(app).user()));
    const plans = await app.gql<{ plans: { code: string; maxProjects: number | null }[] }>(
      '{ plans { code maxProjects } }',
    );
    const free = plans.data?.plans.find((plan) => plan.code === 'free');
    world = { app, users, accounts: new Map(), accountsMade: 0, freeProjects: free?.maxProjects ?? Infinity };
  });
  after(() => world.app.close());

  it(`in ${RUNS} random sequences of membership, service account and grant changes, every actor (users, and service accounts through their keys) sees exactly what the model says`, async () => {
    await holds(
      fc.asyncProperty(start, fc.commands(steps, { maxCommands: 8, size: 'max' }), async (organizations, commands) => {
        // Each sequence starts afresh (the users stay).
        await world.app.sql('DELETE FROM organizations');
        world.accounts.clear();
        const model = await begin(organizations, world);
        await everyoneSeesTheModel(model, world, []);
        // After every step, every actor lists what it sees; at the end it also asks for what it should not see.
        await fc.asyncModelRun(() => ({ model, real: world }), commands);
        await everyoneSeesTheModel(model, world, model.organizations);
        const anonymous = await world.app.gql('{ organizations { totalCount } }');
        assert.equal(outcomeOf(anonymous), 'UNAUTHENTICATED');
      }),
      RUNS,
    );
  });
});
