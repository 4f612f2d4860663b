import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, jwtVerify } from 'jose';
import { isAccountPermission, Permission } from '../../src/permissions';
import { AccessLevel } from '../../src/entities/project-grant.entity';
import { ProjectStatus } from '../../src/entities/project.entity';
import { OrganizationRole } from '../../src/entities/user-role.entity';
import { PlatformRole } from '../../src/entities/user.entity';
import { buildApiSchema } from '../../src/schema';
import {
  eventually,
  given,
  rowsOf,
  ok,
  untilStatus,
  type Level,
  type Role,
  type TestOrganization,
  type TestPaymentMethod,
  type TestProject,
  type TestUser,
} from '../support/given';
import {
  ACTORS,
  article,
  declaredGuards,
  expectedOutcome,
  serviceAccountCaller,
  type Actor,
} from '../support/authorization-matrix';
import { startTestApp, type TestApp } from '../support/server';

interface SceneProject extends TestProject {
  /** The anon key when the scene was built. */
  anonKey: string;
}

/** An organization as the cases find it; every actor with a role is a member of it. */
interface Scene {
  organization: TestOrganization;
  /** ACTIVE_HEALTHY; actors with a grant hold it here. */
  project: SceneProject;
  /** PAUSED; actors with a grant hold it here. */
  pausedProject: SceneProject;
  /** Deleted (GOING_DOWN, in its grace period); actors with a grant held it. */
  deletedProject: SceneProject;
  /** A second organization of the same members, deleted (in its grace period). */
  deletedOrganization: TestOrganization;
  /** A member who is no actor, with read access to both projects: whom member and grant actions act on. */
  target: TestUser;
  /** An account of nobody's: what deleteUser deletes. */
  spare: TestUser;
  /** A pending invitation (to be a member) sent by the founder: what invitation actions act on. */
  invitationId: string;
  /** A viewer service account that is no actor, with a key: what service-account actions act on. */
  serviceAccount: { id: string; apiKeyId: string };
  /** The service-account actors of this scene, each with its own key (as their token). */
  callers: Map<Actor, TestUser>;
  /** A webhook that asks for no event, with a failed delivery (written as the sender would have). */
  webhook: { id: string; deliveryId: string };
  /** On the team plan, past due: its first period's invoice is open, its charge declined. */
  billing: {
    /** A card that is not the default: the one that declined (a good one is the default now). */
    paymentMethod: TestPaymentMethod;
    invoice: { id: string };
  };
}

interface Attempt {
  document: string;
  variables: Record<string, unknown>;
}

interface Success<T> extends Attempt {
  scene: Scene;
  data: T;
  caller: TestUser;
}

interface Action<T = unknown> {
  does: string;
  /** The guarded field (Type.field) that the attempt reaches. */
  field: string;
  scope: 'organization' | 'project' | 'platform';
  /** Every permission the attempt needs, the field's own and any the service adds. */
  needs: readonly Permission[];
  /** Allowed attempts change or remove what they act on, so each gets a scene of its own. */
  fresh: boolean;
  request(scene: Scene): Attempt;
  /** What an allowed attempt must have done. */
  succeeded(success: Success<T>): Promise<void> | void;
  /** The attempt is on something deleted, which only the organization's owners see. */
  onDeleted?: boolean;
  /** Only a person may do it: a service account is refused it, whatever its role. */
  usersOnly?: boolean;
}

let app: TestApp;

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

async function row<T>(text: string, params: unknown[]): Promise<T | undefined> {
  const [first] = await app.sql<T>(text, params);
  return first;
}

interface Invitation {
  email: string;
  role: string;
}

function inviteAs(role: Role, needs: readonly Permission[]): Action<{ inviteMember: { invitation: Invitation } }> {
  return {
    does: `invite ${article(role.toLowerCase())}`,
    field: 'Mutation.inviteMember',
    scope: 'organization',
    needs,
    fresh: false,
    request: ({ organization }) => ({
      document: 'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { invitation { email role } } }',
      variables: { input: { organizationSlug: organization.slug, email: `${unique('invitee')}@example.com`, role } },
    }),
    async succeeded({ scene, data, variables }) {
      const { email } = variables.input as { email: string };
      assert.deepEqual(data.inviteMember.invitation, { email, role });
      const stored = await row<{ role: string }>(
        'SELECT role FROM invitations WHERE organization_id = $1 AND email = $2 AND accepted_at IS NULL',
        [scene.organization.id, email],
      );
      assert.equal(stored?.role, role.toLowerCase());
    },
  };
}

type CredentialsData<K extends string> = { project: { credentials: Record<K, string> } };

async function storedAnonKey(projectId: string): Promise<string | undefined> {
  return (await row<{ anon_key: string }>('SELECT anon_key FROM credentials WHERE project_id = $1', [projectId]))
    ?.anon_key;
}

/** The grant of a user or a service account. */
async function grantOf(granteeId: string, projectId: string): Promise<string | undefined> {
  return (
    await row<{ access_level: string }>(
      'SELECT access_level FROM permissions WHERE (user_id = $1 OR service_account_id = $1) AND project_id = $2',
      [granteeId, projectId],
    )
  )?.access_level;
}

async function statusOf(projectId: string): Promise<string | undefined> {
  return (await row<{ status: string }>('SELECT status FROM projects WHERE id = $1', [projectId]))?.status;
}

interface SubscriptionRow {
  plan: string;
  status: string;
  cancel_at_period_end: boolean;
}

async function subscriptionOf(organizationId: string): Promise<SubscriptionRow | undefined> {
  return row<SubscriptionRow>(
    `SELECT p.code AS plan, s.status, s.cancel_at_period_end FROM subscriptions s JOIN plans p ON p.id = s.plan_id
     WHERE s.organization_id = $1 AND s.status <> 'canceled'`,
    [organizationId],
  );
}

async function invoiceStatusOf(invoiceId: string): Promise<string | undefined> {
  return (await row<{ status: string }>('SELECT status FROM invoices WHERE id = $1', [invoiceId]))?.status;
}

/** Reads a field of `organization.billing`: the organization is visible to every member, its billing is not. */
function billingRead<T>(
  does: string,
  field: string,
  selection: string,
  succeeded: (success: Success<{ organization: { billing: T } }>) => Promise<void> | void,
): Action<{ organization: { billing: T } }> {
  return {
    does,
    field,
    scope: 'organization',
    needs: [Permission.OrganizationRead, Permission.BillingRead],
    fresh: false,
    request: ({ organization }) => ({
      document: `query ($slug: String!) { organization(slug: $slug) { billing { ${selection} } } }`,
      variables: { slug: organization.slug },
    }),
    succeeded,
  };
}

const BASE_ACTIONS: readonly Action[] = [
  {
    does: 'see the organization',
    field: 'Query.organization',
    scope: 'organization',
    needs: [Permission.OrganizationRead],
    fresh: false,
    request: ({ organization }) => ({
      document: 'query ($slug: String!) { organization(slug: $slug) { id slug } }',
      variables: { slug: organization.slug },
    }),
    succeeded({ scene, data }: Success<{ organization: TestOrganization }>) {
      assert.deepEqual(data.organization, scene.organization);
    },
  },
  {
    does: 'update the organization',
    field: 'Mutation.updateOrganization',
    scope: 'organization',
    needs: [Permission.OrganizationUpdate],
    fresh: false,
    request: ({ organization }) => ({
      document:
        'mutation ($slug: String!, $input: UpdateOrganizationInput!) { updateOrganization(slug: $slug, input: $input) { name } }',
      variables: { slug: organization.slug, input: { name: unique('Renamed') } },
    }),
    async succeeded({ scene, data, variables }: Success<{ updateOrganization: { name: string } }>) {
      const { name } = variables.input as { name: string };
      assert.equal(data.updateOrganization.name, name);
      const stored = await row<{ name: string }>('SELECT name FROM organizations WHERE id = $1', [
        scene.organization.id,
      ]);
      assert.equal(stored?.name, name);
    },
  },
  {
    does: 'delete the organization',
    field: 'Mutation.deleteOrganization',
    scope: 'organization',
    needs: [Permission.OrganizationDelete],
    fresh: true,
    request: ({ organization }) => ({
      document: 'mutation ($slug: String!) { deleteOrganization(slug: $slug) }',
      variables: { slug: organization.slug },
    }),
    async succeeded({ scene, data }: Success<{ deleteOrganization: boolean }>) {
      assert.equal(data.deleteOrganization, true);
      const stored = await row<{ deleted_at: Date | null }>('SELECT deleted_at FROM organizations WHERE id = $1', [
        scene.organization.id,
      ]);
      assert.ok(stored?.deleted_at, 'marked deleted, to be purged after the grace period');
    },
  },
  {
    does: 'undelete the organization',
    field: 'Mutation.undeleteOrganization',
    onDeleted: true,
    scope: 'organization',
    needs: [Permission.OrganizationDelete],
    fresh: true,
    request: ({ deletedOrganization }) => ({
      document: 'mutation ($slug: String!) { undeleteOrganization(slug: $slug) { slug deletedAt } }',
      variables: { slug: deletedOrganization.slug },
    }),
    async succeeded({ scene, data }: Success<{ undeleteOrganization: { slug: string; deletedAt: string | null } }>) {
      assert.deepEqual(data.undeleteOrganization, { slug: scene.deletedOrganization.slug, deletedAt: null });
      const stored = await row<{ deleted_at: Date | null }>('SELECT deleted_at FROM organizations WHERE id = $1', [
        scene.deletedOrganization.id,
      ]);
      assert.equal(stored?.deleted_at, null);
    },
  },
  inviteAs('MEMBER', [Permission.MembersManage]),
  // Making an owner also needs OwnersManage, which the service checks beyond the field's guard.
  inviteAs('OWNER', [Permission.MembersManage, Permission.OwnersManage]),
  {
    does: "change a member's role",
    field: 'Mutation.updateMemberRole',
    scope: 'organization',
    needs: [Permission.MembersManage],
    fresh: true,
    request: ({ organization, target }) => ({
      document: 'mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }',
      variables: { input: { organizationSlug: organization.slug, userId: target.id, role: 'ADMIN' } },
    }),
    async succeeded({ scene, data }: Success<{ updateMemberRole: { role: string } }>) {
      assert.equal(data.updateMemberRole.role, 'ADMIN');
      const stored = await row<{ role: string }>(
        'SELECT role FROM user_roles WHERE organization_id = $1 AND user_id = $2',
        [scene.organization.id, scene.target.id],
      );
      assert.equal(stored?.role, OrganizationRole.ADMIN);
    },
  },
  {
    does: 'remove a member',
    field: 'Mutation.removeMember',
    scope: 'organization',
    needs: [Permission.MembersManage],
    fresh: true,
    request: ({ organization, target }) => ({
      document: 'mutation ($slug: String!, $userId: ID!) { removeMember(organizationSlug: $slug, userId: $userId) }',
      variables: { slug: organization.slug, userId: target.id },
    }),
    async succeeded({ scene, data }: Success<{ removeMember: boolean }>) {
      assert.equal(data.removeMember, true);
      assert.deepEqual(
        await app.sql('SELECT id FROM user_roles WHERE organization_id = $1 AND user_id = $2', [
          scene.organization.id,
          scene.target.id,
        ]),
        [],
      );
      assert.equal(await grantOf(scene.target.id, scene.project.id), undefined, 'the grants go with the membership');
    },
  },
  {
    does: 'leave the organization',
    field: 'Mutation.leaveOrganization',
    scope: 'organization',
    needs: [Permission.OrganizationRead],
    fresh: true,
    usersOnly: true,
    request: ({ organization }) => ({
      document: 'mutation ($slug: String!) { leaveOrganization(slug: $slug) }',
      variables: { slug: organization.slug },
    }),
    async succeeded({ scene, data, caller }: Success<{ leaveOrganization: boolean }>) {
      assert.equal(data.leaveOrganization, true);
      assert.deepEqual(
        await app.sql('SELECT id FROM user_roles WHERE organization_id = $1 AND user_id = $2', [
          scene.organization.id,
          caller.id,
        ]),
        [],
      );
    },
  },
  {
    does: 'create a project',
    field: 'Mutation.createProject',
    scope: 'organization',
    needs: [Permission.ProjectCreate],
    fresh: false,
    request: ({ organization }) => ({
      document: 'mutation ($input: CreateProjectInput!) { createProject(input: $input) { id } }',
      variables: { input: { organizationSlug: organization.slug, name: 'Created', region: 'eu-west-1' } },
    }),
    async succeeded({ scene, data, caller }: Success<{ createProject: { id: string } }>) {
      const stored = await row<{ organization_id: string }>('SELECT organization_id FROM projects WHERE id = $1', [
        data.createProject.id,
      ]);
      assert.equal(stored?.organization_id, scene.organization.id);
      assert.equal(await grantOf(caller.id, data.createProject.id), AccessLevel.ADMIN, 'the creator gets admin');
    },
  },
  {
    does: 'see the project',
    field: 'Query.project',
    scope: 'project',
    needs: [Permission.ProjectRead],
    fresh: false,
    request: ({ project }) => ({
      document: 'query ($ref: String!) { project(ref: $ref) { id ref } }',
      variables: { ref: project.ref },
    }),
    succeeded({ scene, data }: Success<{ project: TestProject }>) {
      assert.deepEqual(data.project, { id: scene.project.id, ref: scene.project.ref });
    },
  },
  {
    does: 'see the anon key',
    field: 'ProjectCredentials.anonKey',
    scope: 'project',
    needs: [Permission.ProjectRead],
    fresh: false,
    request: ({ project }) => ({
      document: 'query ($ref: String!) { project(ref: $ref) { credentials { anonKey } } }',
      variables: { ref: project.ref },
    }),
    async succeeded({ scene, data }: Success<CredentialsData<'anonKey'>>) {
      assert.equal(data.project.credentials.anonKey, await storedAnonKey(scene.project.id));
    },
  },
  {
    does: 'see the service-role key',
    field: 'ProjectCredentials.serviceRoleKey',
    scope: 'project',
    needs: [Permission.ProjectRead, Permission.ProjectSecretsManage],
    fresh: false,
    request: ({ project }) => ({
      document: 'query ($ref: String!) { project(ref: $ref) { credentials { serviceRoleKey } } }',
      variables: { ref: project.ref },
    }),
    succeeded({ scene, data }: Success<CredentialsData<'serviceRoleKey'>>) {
      const claims = decodeJwt(data.project.credentials.serviceRoleKey);
      assert.equal(claims.role, 'service_role');
      assert.equal(claims.ref, scene.project.ref);
    },
  },
  {
    does: 'see the JWT secret',
    field: 'ProjectCredentials.jwtSecret',
    scope: 'project',
    needs: [Permission.ProjectRead, Permission.ProjectSecretsManage],
    fresh: false,
    request: ({ project }) => ({
      document: 'query ($ref: String!) { project(ref: $ref) { credentials { jwtSecret } } }',
      variables: { ref: project.ref },
    }),
    async succeeded({ scene, data }: Success<CredentialsData<'jwtSecret'>>) {
      const secret = new TextEncoder().encode(data.project.credentials.jwtSecret);
      const { payload } = await jwtVerify(scene.project.anonKey, secret, { algorithms: ['HS256'] });
      assert.equal(payload.ref, scene.project.ref, "it is the secret that signs the project's keys");
    },
  },
  {
    does: 'update the project',
    field: 'Mutation.updateProject',
    scope: 'project',
    needs: [Permission.ProjectUpdate],
    fresh: false,
    request: ({ project }) => ({
      document:
        'mutation ($ref: String!, $input: UpdateProjectInput!) { updateProject(ref: $ref, input: $input) { name } }',
      variables: { ref: project.ref, input: { name: unique('Renamed') } },
    }),
    async succeeded({ scene, data, variables }: Success<{ updateProject: { name: string } }>) {
      const { name } = variables.input as { name: string };
      assert.equal(data.updateProject.name, name);
      const stored = await row<{ name: string }>('SELECT name FROM projects WHERE id = $1', [scene.project.id]);
      assert.equal(stored?.name, name);
    },
  },
  {
    does: 'pause the project',
    field: 'Mutation.pauseProject',
    scope: 'project',
    needs: [Permission.ProjectUpdate],
    fresh: true,
    request: ({ project }) => ({
      document: 'mutation ($ref: String!) { pauseProject(ref: $ref) { status } }',
      variables: { ref: project.ref },
    }),
    async succeeded({ scene, data }: Success<{ pauseProject: { status: string } }>) {
      assert.equal(data.pauseProject.status, ProjectStatus.PAUSING);
      await untilStatus(app, scene.project, ProjectStatus.PAUSED);
    },
  },
  {
    does: 'restore the project',
    field: 'Mutation.restoreProject',
    scope: 'project',
    needs: [Permission.ProjectUpdate],
    fresh: true,
    request: ({ pausedProject }) => ({
      document: 'mutation ($ref: String!) { restoreProject(ref: $ref) { status } }',
      variables: { ref: pausedProject.ref },
    }),
    async succeeded({ scene, data }: Success<{ restoreProject: { status: string } }>) {
      assert.equal(data.restoreProject.status, ProjectStatus.RESTORING);
      await eventually(async () => assert.equal(await statusOf(scene.pausedProject.id), ProjectStatus.ACTIVE_HEALTHY));
    },
  },
  {
    does: 'rotate the JWT secret',
    field: 'Mutation.rotateProjectJwtSecret',
    scope: 'project',
    needs: [Permission.ProjectSecretsManage],
    fresh: true,
    request: ({ project }) => ({
      document: 'mutation ($ref: String!) { rotateProjectJwtSecret(ref: $ref) { anonKey } }',
      variables: { ref: project.ref },
    }),
    async succeeded({ scene, data }: Success<{ rotateProjectJwtSecret: { anonKey: string } }>) {
      const rotated = data.rotateProjectJwtSecret.anonKey;
      assert.notEqual(rotated, scene.project.anonKey);
      assert.equal(await storedAnonKey(scene.project.id), rotated);
    },
  },
  {
    does: 'delete the project',
    field: 'Mutation.deleteProject',
    scope: 'project',
    needs: [Permission.ProjectDelete],
    fresh: true,
    request: ({ project }) => ({
      document: 'mutation ($ref: String!) { deleteProject(ref: $ref) }',
      variables: { ref: project.ref },
    }),
    async succeeded({ scene, data }: Success<{ deleteProject: boolean }>) {
      assert.equal(data.deleteProject, true);
      assert.equal(await statusOf(scene.project.id), ProjectStatus.GOING_DOWN);
    },
  },
  {
    does: 'undelete the project',
    field: 'Mutation.undeleteProject',
    onDeleted: true,
    scope: 'project',
    // Deleted projects are seen by the organization's owners alone.
    needs: [Permission.ProjectDelete, Permission.OrganizationDelete],
    fresh: true,
    request: ({ deletedProject }) => ({
      document: 'mutation ($ref: String!) { undeleteProject(ref: $ref) { status } }',
      variables: { ref: deletedProject.ref },
    }),
    async succeeded({ scene, data }: Success<{ undeleteProject: { status: string } }>) {
      assert.equal(data.undeleteProject.status, ProjectStatus.ACTIVE_HEALTHY);
      assert.equal(await statusOf(scene.deletedProject.id), ProjectStatus.ACTIVE_HEALTHY);
    },
  },
  {
    does: 'grant access to the project',
    field: 'Mutation.grantProjectPermission',
    scope: 'project',
    needs: [Permission.ProjectPermissionsManage],
    fresh: true,
    request: ({ project, target }) => ({
      document:
        'mutation ($input: GrantProjectPermissionInput!) { grantProjectPermission(input: $input) { accessLevel } }',
      variables: { input: { projectRef: project.ref, userId: target.id, accessLevel: 'WRITE' } },
    }),
    async succeeded({ scene, data }: Success<{ grantProjectPermission: { accessLevel: string } }>) {
      assert.equal(data.grantProjectPermission.accessLevel, 'WRITE');
      assert.equal(await grantOf(scene.target.id, scene.project.id), AccessLevel.WRITE);
    },
  },
  {
    does: 'revoke access to the project',
    field: 'Mutation.revokeProjectPermission',
    scope: 'project',
    needs: [Permission.ProjectPermissionsManage],
    fresh: true,
    request: ({ project, target }) => ({
      document: 'mutation ($ref: String!, $userId: ID!) { revokeProjectPermission(projectRef: $ref, userId: $userId) }',
      variables: { ref: project.ref, userId: target.id },
    }),
    async succeeded({ scene, data }: Success<{ revokeProjectPermission: boolean }>) {
      assert.equal(data.revokeProjectPermission, true);
      assert.equal(await grantOf(scene.target.id, scene.project.id), undefined);
    },
  },
  billingRead<{ subscription: { plan: { code: string }; status: string } }>(
    'see the billing subscription',
    'Organization.billing',
    'subscription { plan { code } status }',
    ({ data }) =>
      assert.deepEqual(data.organization.billing.subscription, { plan: { code: 'team' }, status: 'PAST_DUE' }),
  ),
  billingRead<{ subscription: { currentPeriodEnd: string } }>(
    'see the current period',
    'Billing.subscription',
    'subscription { currentPeriodEnd }',
    async ({ scene, data }) => {
      const [stored] = await app.sql<{ current_period_end: Date }>(
        "SELECT current_period_end FROM subscriptions WHERE organization_id = $1 AND status <> 'canceled'",
        [scene.organization.id],
      );
      assert.equal(data.organization.billing.subscription.currentPeriodEnd, stored.current_period_end.toISOString());
    },
  ),
  billingRead<{ paymentMethods: { nodes: { id: string; last4: string }[] } }>(
    'see the payment methods',
    'Billing.paymentMethods',
    'paymentMethods { nodes { id last4 } }',
    ({ scene, data }) => {
      const ids = data.organization.billing.paymentMethods.nodes.map((method) => method.id);
      assert.ok(ids.includes(scene.billing.paymentMethod.id));
    },
  ),
  billingRead<{ invoices: { nodes: { id: string; status: string }[] } }>(
    'see the invoices',
    'Billing.invoices',
    'invoices { nodes { id status } }',
    ({ scene, data }) => {
      assert.deepEqual(data.organization.billing.invoices.nodes, [{ id: scene.billing.invoice.id, status: 'OPEN' }]);
    },
  ),
  billingRead<{ upcomingInvoice: { status: string; totalCents: number } }>(
    'see the upcoming invoice',
    'Billing.upcomingInvoice',
    'upcomingInvoice { status totalCents }',
    ({ data }) => assert.deepEqual(data.organization.billing.upcomingInvoice, { status: 'DRAFT', totalCents: 59900 }),
  ),
  billingRead<{ details: { taxId: string | null } }>(
    'see the billing details',
    'Billing.details',
    'details { taxId }',
    async ({ scene, data }) => {
      const stored = await row<{ tax_id: string | null }>('SELECT tax_id FROM organizations WHERE id = $1', [
        scene.organization.id,
      ]);
      assert.equal(data.organization.billing.details.taxId, stored?.tax_id);
    },
  ),
  {
    does: 'update the billing details',
    field: 'Mutation.updateBillingDetails',
    scope: 'organization',
    needs: [Permission.BillingManage],
    fresh: false,
    request: ({ organization }) => ({
      document: 'mutation ($input: UpdateBillingDetailsInput!) { updateBillingDetails(input: $input) { taxId email } }',
      variables: { input: { organizationSlug: organization.slug, taxId: unique('DE'), email: 'billing@example.com' } },
    }),
    async succeeded({ scene, data, variables }: Success<{ updateBillingDetails: { taxId: string } }>) {
      const { taxId } = variables.input as { taxId: string };
      assert.equal(data.updateBillingDetails.taxId, taxId);
      const stored = await row<{ tax_id: string }>('SELECT tax_id FROM organizations WHERE id = $1', [
        scene.organization.id,
      ]);
      assert.equal(stored?.tax_id, taxId);
    },
  },
  {
    does: 'change the plan',
    field: 'Mutation.changePlan',
    scope: 'organization',
    needs: [Permission.BillingManage],
    fresh: true,
    request: ({ organization }) => ({
      document: 'mutation ($input: ChangePlanInput!) { changePlan(input: $input) { plan { code } } }',
      variables: { input: { organizationSlug: organization.slug, planCode: 'enterprise' } },
    }),
    async succeeded({ scene, data }: Success<{ changePlan: { plan: { code: string } } }>) {
      assert.equal(data.changePlan.plan.code, 'enterprise');
      assert.equal((await subscriptionOf(scene.organization.id))?.plan, 'enterprise');
    },
  },
  {
    does: 'cancel the subscription',
    field: 'Mutation.cancelSubscription',
    scope: 'organization',
    needs: [Permission.BillingManage],
    fresh: true,
    request: ({ organization }) => ({
      document: 'mutation ($slug: String!) { cancelSubscription(organizationSlug: $slug) { cancelAtPeriodEnd } }',
      variables: { slug: organization.slug },
    }),
    async succeeded({ scene, data }: Success<{ cancelSubscription: { cancelAtPeriodEnd: boolean } }>) {
      assert.equal(data.cancelSubscription.cancelAtPeriodEnd, true);
      assert.equal((await subscriptionOf(scene.organization.id))?.cancel_at_period_end, true);
    },
  },
  {
    does: 'resume the subscription',
    field: 'Mutation.resumeSubscription',
    scope: 'organization',
    needs: [Permission.BillingManage],
    fresh: true,
    request: ({ organization }) => ({
      document: 'mutation ($slug: String!) { resumeSubscription(organizationSlug: $slug) { cancelAtPeriodEnd } }',
      variables: { slug: organization.slug },
    }),
    async succeeded({ scene, data }: Success<{ resumeSubscription: { cancelAtPeriodEnd: boolean } }>) {
      assert.equal(data.resumeSubscription.cancelAtPeriodEnd, false);
      assert.equal((await subscriptionOf(scene.organization.id))?.cancel_at_period_end, false);
    },
  },
  {
    does: 'add a payment method',
    field: 'Mutation.addPaymentMethod',
    scope: 'organization',
    needs: [Permission.BillingManage],
    fresh: false,
    request: ({ organization }) => ({
      document: 'mutation ($input: AddPaymentMethodInput!) { addPaymentMethod(input: $input) { id brand last4 } }',
      variables: { input: { organizationSlug: organization.slug, token: 'tok_mastercard' } },
    }),
    async succeeded({ scene, data }: Success<{ addPaymentMethod: { id: string; brand: string; last4: string } }>) {
      assert.equal(data.addPaymentMethod.brand, 'mastercard');
      assert.equal(data.addPaymentMethod.last4, '4444');
      const stored = await row<{ organization_id: string }>(
        'SELECT organization_id FROM payment_methods WHERE id = $1',
        [data.addPaymentMethod.id],
      );
      assert.equal(stored?.organization_id, scene.organization.id);
    },
  },
  {
    does: 'set the default payment method',
    field: 'Mutation.setDefaultPaymentMethod',
    scope: 'organization',
    needs: [Permission.BillingManage],
    fresh: true,
    request: ({ organization, billing }) => ({
      document:
        'mutation ($slug: String!, $id: ID!) { setDefaultPaymentMethod(organizationSlug: $slug, id: $id) { isDefault } }',
      variables: { slug: organization.slug, id: billing.paymentMethod.id },
    }),
    async succeeded({ scene, data }: Success<{ setDefaultPaymentMethod: { isDefault: boolean } }>) {
      assert.equal(data.setDefaultPaymentMethod.isDefault, true);
      const defaults = await app.sql<{ id: string }>(
        'SELECT id FROM payment_methods WHERE organization_id = $1 AND is_default',
        [scene.organization.id],
      );
      assert.deepEqual(defaults, [{ id: scene.billing.paymentMethod.id }]);
    },
  },
  {
    does: 'remove a payment method',
    field: 'Mutation.removePaymentMethod',
    scope: 'organization',
    needs: [Permission.BillingManage],
    fresh: true,
    request: ({ organization, billing }) => ({
      document: 'mutation ($slug: String!, $id: ID!) { removePaymentMethod(organizationSlug: $slug, id: $id) }',
      variables: { slug: organization.slug, id: billing.paymentMethod.id },
    }),
    async succeeded({ scene, data }: Success<{ removePaymentMethod: boolean }>) {
      assert.equal(data.removePaymentMethod, true);
      assert.deepEqual(
        await app.sql('SELECT id FROM payment_methods WHERE id = $1', [scene.billing.paymentMethod.id]),
        [],
      );
    },
  },
  {
    does: 'pay an invoice',
    field: 'Mutation.payInvoice',
    scope: 'organization',
    needs: [Permission.BillingManage],
    fresh: true,
    request: ({ organization, billing }) => ({
      document:
        'mutation ($slug: String!, $id: ID!) { payInvoice(organizationSlug: $slug, invoiceId: $id) { status } }',
      variables: { slug: organization.slug, id: billing.invoice.id },
    }),
    async succeeded({ scene, data }: Success<{ payInvoice: { status: string } }>) {
      assert.equal(data.payInvoice.status, 'PAID');
      assert.equal(await invoiceStatusOf(scene.billing.invoice.id), 'paid');
      assert.equal((await subscriptionOf(scene.organization.id))?.status, 'active', 'nothing is owed any more');
    },
  },
  {
    does: 'mark an invoice paid',
    field: 'Mutation.markInvoicePaid',
    scope: 'platform',
    needs: [Permission.PlatformBillingManage],
    fresh: true,
    request: ({ organization, billing }) => ({
      document:
        'mutation ($slug: String!, $id: ID!) { markInvoicePaid(organizationSlug: $slug, invoiceId: $id) { status } }',
      variables: { slug: organization.slug, id: billing.invoice.id },
    }),
    async succeeded({ scene, data }: Success<{ markInvoicePaid: { status: string } }>) {
      assert.equal(data.markInvoicePaid.status, 'PAID');
      assert.equal(await invoiceStatusOf(scene.billing.invoice.id), 'paid');
      assert.equal((await subscriptionOf(scene.organization.id))?.status, 'active', 'nothing is owed any more');
    },
  },
  {
    does: 'void an invoice',
    field: 'Mutation.voidInvoice',
    scope: 'platform',
    needs: [Permission.PlatformBillingManage],
    fresh: true,
    request: ({ organization, billing }) => ({
      document:
        'mutation ($slug: String!, $id: ID!) { voidInvoice(organizationSlug: $slug, invoiceId: $id) { status } }',
      variables: { slug: organization.slug, id: billing.invoice.id },
    }),
    async succeeded({ scene, data }: Success<{ voidInvoice: { status: string } }>) {
      assert.equal(data.voidInvoice.status, 'VOID');
      assert.equal(await invoiceStatusOf(scene.billing.invoice.id), 'void');
    },
  },
  {
    does: "open the operator's part of the schema",
    field: 'Query.platform',
    scope: 'platform',
    needs: [Permission.PlatformRead],
    fresh: false,
    request: ({ organization }) => ({
      document: 'query ($slug: String!) { platform { organization(slug: $slug) { slug memberCount } } }',
      variables: { slug: organization.slug },
    }),
    succeeded({ scene, data }: Success<{ platform: { organization: { slug: string; memberCount: number } } }>) {
      assert.equal(data.platform.organization.slug, scene.organization.slug);
      assert.ok(data.platform.organization.memberCount > 1);
    },
  },
  {
    does: 'suspend an organization',
    field: 'Mutation.suspendOrganization',
    scope: 'platform',
    needs: [Permission.PlatformOrganizationsManage],
    fresh: true,
    request: ({ organization }) => ({
      document: 'mutation ($slug: String!) { suspendOrganization(slug: $slug, reason: "Abuse") { status } }',
      variables: { slug: organization.slug },
    }),
    async succeeded({ scene, data }: Success<{ suspendOrganization: { status: string } }>) {
      assert.equal(data.suspendOrganization.status, 'SUSPENDED');
      const [row] = await app.sql<{ suspension_reason: string }>(
        'SELECT suspension_reason FROM organizations WHERE id = $1',
        [scene.organization.id],
      );
      assert.equal(row.suspension_reason, 'Abuse');
    },
  },
  {
    does: 'unsuspend an organization',
    field: 'Mutation.unsuspendOrganization',
    scope: 'platform',
    needs: [Permission.PlatformOrganizationsManage],
    fresh: false,
    request: ({ organization }) => ({
      document: 'mutation ($slug: String!) { unsuspendOrganization(slug: $slug) { status } }',
      variables: { slug: organization.slug },
    }),
    succeeded({ data }: Success<{ unsuspendOrganization: { status: string } }>) {
      assert.equal(data.unsuspendOrganization.status, 'ACTIVE');
    },
  },
  {
    does: 'give an organization a complimentary plan',
    field: 'Mutation.setOrganizationPlan',
    scope: 'platform',
    needs: [Permission.PlatformOrganizationsManage],
    fresh: true,
    request: ({ organization }) => ({
      document: 'mutation ($input: SetOrganizationPlanInput!) { setOrganizationPlan(input: $input) { plan } }',
      variables: {
        input: { slug: organization.slug, plan: 'enterprise', until: new Date(Date.now() + 86_400_000).toISOString() },
      },
    }),
    async succeeded({ scene, data }: Success<{ setOrganizationPlan: { plan: string } }>) {
      assert.equal(data.setOrganizationPlan.plan, 'enterprise');
      assert.equal((await subscriptionOf(scene.organization.id))?.plan, 'enterprise');
    },
  },
  {
    does: 'invite someone to sign up',
    field: 'Mutation.invitePlatformUser',
    scope: 'platform',
    needs: [Permission.PlatformUsersManage],
    fresh: false,
    request: () => ({
      document: 'mutation ($email: String!) { invitePlatformUser(email: $email) { invitation { email } token } }',
      variables: { email: `${unique('signup')}@example.com` },
    }),
    async succeeded({ data, variables }: Success<{ invitePlatformUser: { invitation: { email: string } } }>) {
      assert.equal(data.invitePlatformUser.invitation.email, variables.email);
      const stored = await row<{ organization_id: string | null }>(
        'SELECT organization_id FROM invitations WHERE email = $1 AND accepted_at IS NULL',
        [variables.email],
      );
      assert.deepEqual(stored, { organization_id: null });
    },
  },
  {
    does: 'delete an account',
    field: 'Mutation.deleteUser',
    scope: 'platform',
    needs: [Permission.PlatformUsersManage],
    fresh: true,
    request: ({ spare }) => ({ document: 'mutation ($id: ID!) { deleteUser(id: $id) }', variables: { id: spare.id } }),
    async succeeded({ scene, data }: Success<{ deleteUser: boolean }>) {
      assert.equal(data.deleteUser, true);
      assert.equal(await row('SELECT id FROM users WHERE id = $1', [scene.spare.id]), undefined);
    },
  },
  {
    does: 'create a service account',
    field: 'Mutation.createServiceAccount',
    scope: 'organization',
    needs: [Permission.MembersManage],
    fresh: false,
    request: ({ organization }) => ({
      document:
        'mutation ($input: CreateServiceAccountInput!) { createServiceAccount(input: $input) { id name role } }',
      variables: { input: { organizationSlug: organization.slug, name: unique('robot'), role: 'VIEWER' } },
    }),
    async succeeded({ scene, data }: Success<{ createServiceAccount: { id: string; role: string } }>) {
      assert.equal(data.createServiceAccount.role, 'VIEWER');
      const stored = await row<{ organization_id: string }>(
        'SELECT organization_id FROM service_accounts WHERE id = $1',
        [data.createServiceAccount.id],
      );
      assert.equal(stored?.organization_id, scene.organization.id);
    },
  },
  {
    does: 'change a service account',
    field: 'Mutation.updateServiceAccount',
    scope: 'organization',
    needs: [Permission.MembersManage],
    fresh: true,
    request: ({ serviceAccount }) => ({
      document: 'mutation ($id: ID!) { updateServiceAccount(id: $id, input: { role: MEMBER }) { role } }',
      variables: { id: serviceAccount.id },
    }),
    async succeeded({ scene, data }: Success<{ updateServiceAccount: { role: string } }>) {
      assert.equal(data.updateServiceAccount.role, 'MEMBER');
      const stored = await row<{ role: string }>('SELECT role FROM service_accounts WHERE id = $1', [
        scene.serviceAccount.id,
      ]);
      assert.equal(stored?.role, 'member');
    },
  },
  {
    does: 'delete a service account',
    field: 'Mutation.deleteServiceAccount',
    scope: 'organization',
    needs: [Permission.MembersManage],
    fresh: true,
    request: ({ serviceAccount }) => ({
      document: 'mutation ($id: ID!) { deleteServiceAccount(id: $id) }',
      variables: { id: serviceAccount.id },
    }),
    async succeeded({ scene, data }: Success<{ deleteServiceAccount: boolean }>) {
      assert.equal(data.deleteServiceAccount, true);
      assert.deepEqual(await app.sql('SELECT id FROM service_accounts WHERE id = $1', [scene.serviceAccount.id]), []);
    },
  },
  {
    does: 'make an API key',
    field: 'Mutation.createApiKey',
    scope: 'organization',
    needs: [Permission.MembersManage],
    fresh: false,
    request: ({ serviceAccount }) => ({
      document: 'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } secret } }',
      variables: { input: { serviceAccountId: serviceAccount.id, name: unique('key') } },
    }),
    async succeeded({ scene, data }: Success<{ createApiKey: { apiKey: { id: string }; secret: string } }>) {
      assert.match(data.createApiKey.secret, /^pak_/);
      const stored = await row<{ service_account_id: string }>(
        'SELECT service_account_id FROM access_keys WHERE id = $1',
        [data.createApiKey.apiKey.id],
      );
      assert.equal(stored?.service_account_id, scene.serviceAccount.id);
    },
  },
  {
    does: 'withdraw an invitation',
    field: 'Mutation.revokeInvitation',
    scope: 'organization',
    needs: [Permission.MembersManage],
    fresh: true,
    request: ({ invitationId }) => ({
      document: 'mutation ($id: ID!) { revokeInvitation(id: $id) }',
      variables: { id: invitationId },
    }),
    async succeeded({ scene, data }: Success<{ revokeInvitation: boolean }>) {
      assert.equal(data.revokeInvitation, true);
      assert.deepEqual(await app.sql('SELECT id FROM invitations WHERE id = $1', [scene.invitationId]), []);
    },
  },
  {
    does: 'send an invitation again',
    field: 'Mutation.resendInvitation',
    scope: 'organization',
    needs: [Permission.MembersManage],
    fresh: true,
    request: ({ invitationId }) => ({
      document: 'mutation ($id: ID!) { resendInvitation(id: $id) { id invitedBy { id } } }',
      variables: { id: invitationId },
    }),
    async succeeded({ scene, data, caller }: Success<{ resendInvitation: { id: string; invitedBy: { id: string } } }>) {
      assert.equal(data.resendInvitation.id, scene.invitationId);
      const [stored] = await app.sql<{ invited_by_id: string }>('SELECT invited_by_id FROM invitations WHERE id = $1', [
        scene.invitationId,
      ]);
      assert.equal(stored.invited_by_id, caller.id);
    },
  },
  {
    does: 'revoke an API key',
    field: 'Mutation.revokeApiKey',
    scope: 'organization',
    needs: [Permission.MembersManage],
    fresh: true,
    request: ({ serviceAccount }) => ({
      document: 'mutation ($id: ID!) { revokeApiKey(id: $id) }',
      variables: { id: serviceAccount.apiKeyId },
    }),
    async succeeded({ scene, data }: Success<{ revokeApiKey: boolean }>) {
      assert.equal(data.revokeApiKey, true);
      const stored = await row<{ revoked_at: Date | null }>('SELECT revoked_at FROM access_keys WHERE id = $1', [
        scene.serviceAccount.apiKeyId,
      ]);
      assert.ok(stored?.revoked_at);
    },
  },
];

/** A public address, named without DNS (the tests have no network): nothing is ever sent to it. */
const WEBHOOK_URL = 'https://93.184.215.14/hook';

const WEBHOOK_ACTIONS: readonly Action[] = [
  {
    does: 'add a webhook',
    field: 'Mutation.createWebhook',
    scope: 'organization',
    needs: [Permission.WebhooksManage],
    fresh: false,
    request: ({ organization }) => ({
      document: 'mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }',
      variables: { input: { organizationSlug: organization.slug, url: WEBHOOK_URL, events: ['billing.never'] } },
    }),
    async succeeded({ data }: Success<{ createWebhook: { secret: string; webhook: { id: string } } }>) {
      assert.match(data.createWebhook.secret, /^whsec_/);
      assert.ok(await row('SELECT id FROM webhooks WHERE id = $1', [data.createWebhook.webhook.id]));
    },
  },
  {
    does: 'change a webhook',
    field: 'Mutation.updateWebhook',
    scope: 'organization',
    needs: [Permission.WebhooksManage],
    fresh: false,
    request: ({ webhook }) => ({
      document: 'mutation ($id: ID!, $d: String!) { updateWebhook(id: $id, input: { description: $d }) { id } }',
      variables: { id: webhook.id, d: unique('described') },
    }),
    async succeeded({ scene, variables }) {
      const stored = await row<{ description: string }>('SELECT description FROM webhooks WHERE id = $1', [
        scene.webhook.id,
      ]);
      assert.equal(stored?.description, variables.d);
    },
  },
  {
    does: "rotate a webhook's secret",
    field: 'Mutation.rotateWebhookSecret',
    scope: 'organization',
    needs: [Permission.WebhooksManage],
    fresh: false,
    request: ({ webhook }) => ({
      document: 'mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret } }',
      variables: { id: webhook.id },
    }),
    succeeded({ data }: Success<{ rotateWebhookSecret: { secret: string } }>) {
      assert.match(data.rotateWebhookSecret.secret, /^whsec_/);
    },
  },
  {
    does: 'send a webhook delivery again',
    field: 'Mutation.redeliverWebhookDelivery',
    scope: 'organization',
    needs: [Permission.WebhooksManage],
    fresh: true,
    request: ({ webhook }) => ({
      document: 'mutation ($id: ID!) { redeliverWebhookDelivery(id: $id) { status } }',
      variables: { id: webhook.deliveryId },
    }),
    async succeeded({ scene, data }: Success<{ redeliverWebhookDelivery: { status: string } }>) {
      assert.equal(data.redeliverWebhookDelivery.status, 'PENDING');
      // Nothing is to be sent from this scene: its webhook goes, and its delivery's job finds nothing.
      await app.sql('DELETE FROM webhooks WHERE id = $1', [scene.webhook.id]);
    },
  },
  {
    does: 'delete a webhook',
    field: 'Mutation.deleteWebhook',
    scope: 'organization',
    needs: [Permission.WebhooksManage],
    fresh: true,
    request: ({ webhook }) => ({
      document: 'mutation ($id: ID!) { deleteWebhook(id: $id) }',
      variables: { id: webhook.id },
    }),
    async succeeded({ scene, data }: Success<{ deleteWebhook: boolean }>) {
      assert.equal(data.deleteWebhook, true);
      assert.equal(await row('SELECT id FROM webhooks WHERE id = $1', [scene.webhook.id]), undefined);
    },
  },
];

const ACTIONS: readonly Action[] = [...BASE_ACTIONS, ...WEBHOOK_ACTIONS];

const TRANSITIONAL = [ProjectStatus.COMING_UP, ProjectStatus.RESTORING, ProjectStatus.PAUSING];

/** Every row of every table of the platform schema, once no project is still moving between states. */
async function snapshot(tables: readonly string[]): Promise<Record<string, unknown[]>> {
  await eventually(async () =>
    assert.deepEqual(await app.sql('SELECT ref FROM projects WHERE status = ANY($1)', [TRANSITIONAL]), []),
  );
  // Mail of the scene's making is being sent meanwhile: a change of no request's.
  await eventually(async () => assert.deepEqual(await app.sql('SELECT id FROM mail_outbox WHERE sent_at IS NULL'), []));
  const rows: Record<string, unknown[]> = {};
  // Table names come from the catalog, not from input.
  for (const table of tables) rows[table] = await rowsOf(app, table);
  return rows;
}

describe('authorization, generated from the permission matrix', () => {
  const users = new Map<Actor, TestUser>();
  let founder: TestUser;
  let target: TestUser;
  let shared: Scene;
  let tables: string[];

  function userOf(actor: Actor): TestUser {
    const user = users.get(actor);
    assert.ok(user, `${actor.name} has no account`);
    return user;
  }

  async function activeProject(organization: TestOrganization): Promise<SceneProject> {
    const project = await given(app).project({ organization, by: founder });
    await eventually(async () => assert.equal(await statusOf(project.id), ProjectStatus.ACTIVE_HEALTHY));
    const anonKey = await storedAnonKey(project.id);
    assert.ok(anonKey);
    return { ...project, anonKey };
  }

  /**
   * A new organization of the founder's, which `actors` and the target join with their roles
   * and grants. The founder stays its owner, so an owner actor can leave it like anyone else.
   */
  async function buildScene(actors: readonly Actor[]): Promise<Scene> {
    const make = given(app);
    const organization = await make.organization({ owner: founder });
    const members = actors.filter((actor) => actor.role !== null && !actor.key);
    const billing = await pastDueBilling(organization);
    await Promise.all([
      ...members.map((actor) =>
        make.member({ organization, role: actor.role?.toUpperCase() as Role, by: founder, user: userOf(actor) }),
      ),
      make.member({ organization, role: 'MEMBER', by: founder, user: target }),
    ]);
    const [project, pausedProject, deletedProject] = await Promise.all([
      activeProject(organization),
      activeProject(organization),
      activeProject(organization),
    ]);
    ok(
      await app.gql(
        'mutation ($ref: String!) { pauseProject(ref: $ref) { status } }',
        { ref: pausedProject.ref },
        founder.token,
      ),
    );
    await untilStatus(app, pausedProject, ProjectStatus.PAUSED);
    const projects = [project, pausedProject, deletedProject];
    const callers = new Map<Actor, TestUser>();
    await Promise.all(
      actors
        .filter((actor) => actor.key)
        .map(async (actor) =>
          callers.set(actor, await serviceAccountCaller(app, actor, { organization, founder, projects })),
        ),
    );
    const account = await make.serviceAccount({ organization, role: 'VIEWER', by: founder });
    const serviceAccount = {
      id: account.id,
      apiKeyId: (await make.apiKey({ serviceAccount: account, by: founder })).id,
    };
    const grants = [
      ...members.flatMap((actor) => (actor.grant ? [{ user: userOf(actor), level: actor.grant }] : [])),
      { user: target, level: AccessLevel.READ },
    ];
    await Promise.all(
      [project, pausedProject, deletedProject].flatMap((p) =>
        grants.map(({ user, level }) =>
          make.grant({ project: p, user, level: level.toUpperCase() as Level, by: founder }),
        ),
      ),
    );
    ok(
      await app.gql(
        'mutation ($ref: String!) { deleteProject(ref: $ref) }',
        { ref: deletedProject.ref },
        founder.token,
      ),
    );
    const deletedOrganization = await make.organization({ owner: founder });
    await Promise.all(
      members.map((actor) =>
        make.member({
          organization: deletedOrganization,
          role: actor.role?.toUpperCase() as Role,
          by: founder,
          user: userOf(actor),
        }),
      ),
    );
    ok(
      await app.gql(
        'mutation ($slug: String!) { deleteOrganization(slug: $slug) }',
        { slug: deletedOrganization.slug },
        founder.token,
      ),
    );
    const spare = await make.user();
    const invitationId = ok(
      await app.gql<{ inviteMember: { invitation: { id: string } } }>(
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { invitation { id } } }',
        { input: { organizationSlug: organization.slug, email: `${unique('invitee')}@example.com`, role: 'MEMBER' } },
        founder.token,
      ),
    ).inviteMember.invitation.id;
    const webhook = await sceneWebhook(organization);
    return {
      invitationId,
      webhook,
      organization,
      project,
      pausedProject,
      deletedProject,
      deletedOrganization,
      target,
      billing,
      serviceAccount,
      callers,
      spare,
    };
  }

  async function sceneWebhook(organization: TestOrganization): Promise<Scene['webhook']> {
    const { createWebhook } = ok(
      await app.gql<{ createWebhook: { webhook: { id: string } } }>(
        'mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }',
        { input: { organizationSlug: organization.slug, url: WEBHOOK_URL, events: ['billing.never'] } },
        founder.token,
      ),
    );
    const { id } = createWebhook.webhook;
    const [delivery] = await app.sql<{ id: string }>(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, action, status, attempts)
       SELECT $1, id, action, 'FAILED', 10 FROM audit_events WHERE organization_id = $2 LIMIT 1 RETURNING id`,
      [id, organization.id],
    );
    return { id, deliveryId: delivery.id };
  }

  /** The team plan (room for every actor's project), a declined charge and so an open invoice. */
  async function pastDueBilling(organization: TestOrganization): Promise<Scene['billing']> {
    const make = given(app);
    const paymentMethod = await make.paymentMethod({ organization, by: founder, token: 'tok_chargeDeclined' });
    const good = await make.paymentMethod({ organization, by: founder, token: 'tok_visa' });
    await make.changePlan({ organization, by: founder, plan: 'team' });
    const { invoice } = await make.closePeriod({ organization });
    assert.equal(invoice?.status, 'open');
    // A good card is the default now, so that paying the open invoice succeeds.
    ok(
      await app.gql(
        'mutation ($slug: String!, $id: ID!) { setDefaultPaymentMethod(organizationSlug: $slug, id: $id) { id } }',
        { slug: organization.slug, id: good.id },
        founder.token,
      ),
    );
    return { paymentMethod, invoice: { id: invoice.id } };
  }

  before(async () => {
    app = await startTestApp();
    const make = given(app);
    const signedIn = ACTORS.filter((actor) => actor.signedIn && !actor.key);
    const [first, second, ...accounts] = await Promise.all([
      make.user(),
      make.user(),
      ...signedIn.map(() => make.user()),
    ]);
    founder = first;
    target = second;
    signedIn.forEach((actor, index) => users.set(actor, accounts[index]));
    for (const actor of signedIn.filter((a) => a.platformRole)) {
      await make.platformUser({ user: userOf(actor), viewer: actor.platformRole === PlatformRole.PLATFORM_VIEWER });
    }
    for (const actor of signedIn.filter((a) => a.role === null)) {
      await make.organization({ owner: userOf(actor) });
    }
    shared = await buildScene(ACTORS);
    tables = (
      await app.sql<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables
         WHERE table_schema = 'platform' AND table_type = 'BASE TABLE' AND table_name NOT IN ('migrations', 'migration_ledger', 'auth_throttle')
         ORDER BY table_name`,
      )
    ).map((t) => t.table_name);
  });
  after(() => app.close());

  describe('the table of cases', () => {
    it('has a case for every guarded query and mutation', async () => {
      await buildApiSchema();
      const guards = declaredGuards();
      // The caller's own sessions and password are no organization's: test/accounts/sessions.test.ts holds them.
      const operations = [...guards.keys()].filter(
        (field) => /^(Query|Mutation)\./.test(field) && !guards.get(field)?.some(isAccountPermission),
      );
      assert.ok(operations.length > 0);
      const untested = operations.filter((field) => !ACTIONS.some((action) => action.field === field));
      assert.deepEqual(untested, [], 'every guarded operation needs a case in ACTIONS');
    });

    it('requires of each case at least the permissions its field declares', async () => {
      await buildApiSchema();
      const guards = declaredGuards();
      for (const action of ACTIONS) {
        const declared = guards.get(action.field);
        assert.ok(declared, `${action.field} is not a guarded field`);
        for (const permission of declared) {
          assert.ok(action.needs.includes(permission), `${action.does}: ${action.field} requires ${permission}`);
        }
      }
    });
  });

  for (const action of ACTIONS) {
    describe(`to ${action.does} (${action.needs.join(' + ')})`, () => {
      for (const actor of ACTORS) {
        const outcome = expectedOutcome(actor, action.scope, action.needs, {
          deleted: action.onDeleted,
          usersOnly: action.usersOnly,
        });
        const title =
          outcome === 'OK' ? `${actor.name} can ${action.does}` : `${actor.name} cannot ${action.does} (${outcome})`;
        it(title, async () => {
          if (outcome === 'OK') {
            const scene = action.fresh ? await buildScene([actor]) : shared;
            const caller = scene.callers.get(actor) ?? users.get(actor);
            assert.ok(caller);
            const attempt = action.request(scene);
            const data = ok(await app.gql<unknown>(attempt.document, attempt.variables, caller.token));
            await action.succeeded({ ...attempt, scene, data, caller });
            return;
          }
          const caller = shared.callers.get(actor) ?? users.get(actor);
          const attempt = action.request(shared);
          const before = await snapshot(tables);
          const response = await app.gql(attempt.document, attempt.variables, caller?.token);
          assert.deepEqual(
            response.errors?.map((error) => error.extensions.code),
            [outcome],
            JSON.stringify(response.errors),
          );
          assert.equal(response.data, null);
          assert.deepEqual(await snapshot(tables), before, 'a denied attempt changes nothing');
        });
      }
    });
  }
});
