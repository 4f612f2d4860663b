import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { PlatformRole } from '../../src/entities/user.entity';
import { isAccountPermission, isPlatformPermission, type Permission } from '../../src/permissions';
import { buildApiSchema } from '../../src/schema';
import {
  eventually,
  given,
  ok,
  rowsOf,
  type Level,
  type Role,
  type TestOrganization,
  type TestProject,
  type TestUser,
} from '../support/given';
import {
  ACTORS,
  declaredGuards,
  expectedOutcome,
  serviceAccountCaller,
  type Actor,
  type Outcome,
} from '../support/authorization-matrix';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

/*
 * The part of the authorization matrix that test/api/authorization.test.ts does not hold, generated
 * from the built schema and the one permission matrix: every guarded field reached from
 * `organization(slug)` or `project(ref)`, and every guarded operation aimed at a foreign
 * organization, for every actor.
 */

/** A guarded field and the way to it from a root: the document asks for it and nothing else. */
interface Reach {
  field: string;
  root: 'organization' | 'project' | 'platform';
  /** The guards along the path, the root's and the field's own included. */
  needs: Permission[];
  document: string;
}

const ROOTS = { organization: 'Organization', project: 'Project', platform: 'Platform' } as const;

/**
 * The shortest path to every guarded field, breadth first from Query.organization and
 * Query.project, over fields without required arguments. A path from an organization does not
 * enter its projects (what a member sees there depends on grants): fields of projects are
 * reached from Query.project.
 */
function reaches(schema: GraphQLSchema, guards: Map<string, Permission[]>): Reach[] {
  const found = new Map<string, Reach>();
  for (const root of ['organization', 'project', 'platform'] as const) {
    const rootType = schema.getType(ROOTS[root]) as GraphQLObjectType;
    const variable = { organization: '(slug: $key)', project: '(ref: $key)', platform: '' }[root];
    const queue: { type: GraphQLObjectType; path: string[]; needs: Permission[]; seen: Set<string> }[] = [
      { type: rootType, path: [], needs: guards.get(`Query.${root}`) ?? [], seen: new Set([rootType.name]) },
    ];
    while (queue.length > 0) {
      const { type, path, needs, seen } = queue.shift() as (typeof queue)[number];
      for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
        // Under the platform root, an organization is named by the key, as the roots name theirs.
        const keyed = root === 'platform' && field.args.some((arg) => arg.name === 'slug');
        if (field.args.some((arg) => isNonNullType(arg.type) && !(keyed && arg.name === 'slug'))) continue;
        const key = `${type.name}.${field.name}`;
        const fieldNeeds = [...needs, ...(guards.get(key) ?? [])];
        const named = getNamedType(field.type);
        const here = [...path, keyed ? `${field.name}(slug: $key)` : field.name];
        if (guards.has(key) && !found.has(key)) {
          const leaf = isObjectType(named) ? ' { __typename }' : '';
          const selection = here.reduceRight(
            (inner, name, i) => `${name}${i === here.length - 1 ? leaf : ''}${inner ? ` { ${inner} }` : ''}`,
            '',
          );
          found.set(key, {
            field: key,
            root,
            needs: [...new Set(fieldNeeds)],
            document: `query${variable || selection.includes('$key') ? ' ($key: String!)' : ''} { ${root}${variable} { ${selection} } }`,
          });
        }
        const entersProjects = root === 'organization' && /^Project/.test(named.name);
        if (isObjectType(named) && !seen.has(named.name) && !entersProjects && here.length < 4) {
          queue.push({ type: named, path: here, needs: fieldNeeds, seen: new Set([...seen, named.name]) });
        }
      }
    }
  }
  return [...found.values()];
}

/** Mutations whose `id` names a service account or an API key: the foreign organization's. */
const FOREIGN_IDS: Record<string, (foreign: Foreign) => string> = {
  updateServiceAccount: (foreign) => foreign.serviceAccount.id,
  deleteServiceAccount: (foreign) => foreign.serviceAccount.id,
  revokeApiKey: (foreign) => foreign.apiKeyId,
  revokeInvitation: (foreign) => foreign.invitationId,
  resendInvitation: (foreign) => foreign.invitationId,
  updateWebhook: (foreign) => foreign.webhook.id,
  deleteWebhook: (foreign) => foreign.webhook.id,
  rotateWebhookSecret: (foreign) => foreign.webhook.id,
  redeliverWebhookDelivery: (foreign) => foreign.webhook.deliveryId,
};

/** Arguments that name the foreign organization or project; anything else a plausible value. */
function argument(name: string, type: GraphQLInputType, foreign: Foreign): unknown {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return [argument(name, inner.ofType, foreign)];
  if (isInputObjectType(inner)) {
    return Object.fromEntries(
      Object.values(inner.getFields())
        .filter(
          (field) => isNonNullType(field.type) || /^(organizationSlug|projectRef|serviceAccountId)$/.test(field.name),
        )
        .map((field) => [field.name, argument(field.name, field.type, foreign)]),
    );
  }
  if (isEnumType(inner)) return inner.getValues()[0].name;
  if (isScalarType(inner) && (inner.name === 'Int' || inner.name === 'Float')) return 1;
  if (isScalarType(inner) && inner.name === 'Boolean') return false;
  if (isScalarType(inner) && /Date/.test(inner.name)) return new Date(Date.now() + 86_400_000).toISOString();
  if (/^(organizationSlug|slug)$/.test(name)) return foreign.organization.slug;
  if (/^(projectRef|ref)$/.test(name)) return foreign.project.ref;
  if (name === 'serviceAccountId') return foreign.serviceAccount.id;
  if (/id$/i.test(name)) return foreign.owner.id;
  if (/email/i.test(name)) return 'someone@example.com';
  return 'Foreign';
}

interface Foreign {
  owner: TestUser;
  organization: TestOrganization;
  project: TestProject;
  serviceAccount: { id: string };
  apiKeyId: string;
  invitationId: string;
  /** A webhook that asks for no event, with a delivery (written as the sender would have). */
  webhook: { id: string; deliveryId: string };
}

/** Their webhook: at a public address named without DNS, for events nobody records, so nothing is sent. */
async function foreignWebhook(app: TestApp, owner: TestUser, organization: TestOrganization) {
  const { createWebhook } = ok(
    await app.gql<{ createWebhook: { webhook: { id: string } } }>(
      'mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }',
      { input: { organizationSlug: organization.slug, url: 'https://93.184.215.14/hook', events: ['billing.never'] } },
      owner.token,
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

const TRANSITIONAL = ['COMING_UP', 'RESTORING', 'PAUSING'];

describe('authorization, generated from the schema: guarded fields and foreign resources', () => {
  let app: TestApp;
  let schema: GraphQLSchema;
  let guards: Map<string, Permission[]>;
  const users = new Map<Actor, TestUser>();
  let home: { organization: TestOrganization; project: TestProject };
  let foreign: Foreign;
  let tables: string[];

  async function snapshot(): Promise<Record<string, unknown[]>> {
    await eventually(async () =>
      assert.deepEqual(await app.sql('SELECT ref FROM projects WHERE status = ANY($1)', [TRANSITIONAL]), []),
    );
    // Mail of the set-up is being sent meanwhile: a change of no request's.
    await eventually(async () =>
      assert.deepEqual(await app.sql('SELECT id FROM mail_outbox WHERE sent_at IS NULL'), []),
    );
    const rows: Record<string, unknown[]> = {};
    for (const table of tables) rows[table] = await rowsOf(app, table);
    return rows;
  }

  /** Runs an attempt that must end in `outcome`, and, when denied, must change nothing. */
  async function attempt(actor: Actor, outcome: Outcome, document: string, variables: Record<string, unknown>) {
    const before = outcome === 'OK' ? undefined : await snapshot();
    const response: GraphQLResponse<unknown> = await app.gql(document, variables, users.get(actor)?.token);
    const codes = (response.errors ?? []).map((error) => error.extensions.code);
    assert.deepEqual(codes, outcome === 'OK' ? [] : [outcome], `${document} ${JSON.stringify(response.errors)}`);
    if (before) assert.deepEqual(await snapshot(), before, 'a denied attempt changes nothing');
  }

  before(async () => {
    app = await startTestApp();
    schema = await buildApiSchema();
    guards = declaredGuards();
    const make = given(app);
    const founder = await make.user();
    const organization = await make.organization({ owner: founder });
    const project = await make.project({ organization, by: founder });
    home = { organization, project };
    const owner = await make.user();
    const theirs = await make.organization({ owner });
    const theirAccount = await make.serviceAccount({ organization: theirs, role: 'ADMIN', by: owner });
    foreign = {
      owner,
      organization: theirs,
      project: await make.project({ organization: theirs, by: owner }),
      serviceAccount: theirAccount,
      apiKeyId: (await make.apiKey({ serviceAccount: theirAccount, by: owner })).id,
      invitationId: ok(
        await app.gql<{ inviteMember: { invitation: { id: string } } }>(
          'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { invitation { id } } }',
          { input: { organizationSlug: theirs.slug, email: 'invited-elsewhere@example.com', role: 'MEMBER' } },
          owner.token,
        ),
      ).inviteMember.invitation.id,
      webhook: await foreignWebhook(app, owner, theirs),
    };
    await Promise.all(
      ACTORS.filter((a) => a.key).map(async (actor) =>
        users.set(actor, await serviceAccountCaller(app, actor, { organization, founder, projects: [project] })),
      ),
    );
    for (const actor of ACTORS.filter((a) => a.signedIn && !a.key)) {
      const user = await make.user();
      users.set(actor, user);
      if (actor.platformRole) {
        await make.platformUser({ user, viewer: actor.platformRole === PlatformRole.PLATFORM_VIEWER });
      }
      if (actor.role === null) {
        await make.organization({ owner: user });
        continue;
      }
      await make.member({ organization, role: actor.role.toUpperCase() as Role, by: founder, user });
      if (actor.grant) {
        await make.grant({ project, user, level: actor.grant.toUpperCase() as Level, by: founder });
      }
    }
    tables = (
      await app.sql<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables
         WHERE table_schema = 'platform' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'migration%' AND table_name <> 'auth_throttle'
         ORDER BY table_name`,
      )
    ).map((t) => t.table_name);
  });
  after(() => app.close());

  it('reaches every guarded field of the schema from a root', () => {
    const reached = new Set(reaches(schema, guards).map((reach) => reach.field));
    const fields = [...guards.keys()].filter((field) => !/^(Query|Mutation)\./.test(field));
    assert.ok(fields.length > 5);
    assert.deepEqual(
      fields.filter((field) => !reached.has(field)),
      [],
      'every guarded field needs a path from Query.organization, Query.project or Query.platform',
    );
  });

  it('every guarded field, for every actor, answers as the matrix says, and a denial changes nothing', async () => {
    for (const reach of reaches(schema, guards)) {
      const key = reach.root === 'project' ? home.project.ref : home.organization.slug;
      const variables = reach.root === 'platform' && !reach.document.includes('$key') ? {} : { key };
      for (const actor of ACTORS) {
        await attempt(actor, expectedOutcome(actor, reach.root, reach.needs), reach.document, variables);
      }
    }
  });

  it('every guarded operation aimed at a foreign organization or project is NOT_FOUND for every actor, and changes nothing', async () => {
    const operations = [
      ...Object.values(schema.getQueryType()?.getFields() ?? {}).map((field) => ['query', field] as const),
      ...Object.values(schema.getMutationType()?.getFields() ?? {}).map((field) => ['mutation', field] as const),
    ].filter(([kind, field]) => {
      const guard = guards.get(`${kind === 'query' ? 'Query' : 'Mutation'}.${field.name}`);
      // The operator's operations are not about an organization of the caller's: the next case holds them.
      // Nor are the caller's own account's (sessions, password): test/accounts holds them.
      return guard !== undefined && !guard.some((p) => isPlatformPermission(p) || isAccountPermission(p));
    });
    assert.ok(operations.length > 10);
    for (const [kind, field] of operations) {
      const variables = Object.fromEntries(
        field.args.map((arg) => [
          arg.name,
          arg.name === 'id' && FOREIGN_IDS[field.name]
            ? FOREIGN_IDS[field.name](foreign)
            : argument(arg.name, arg.type, foreign),
        ]),
      );
      const aimed = JSON.stringify(variables);
      assert.ok(
        [
          foreign.organization.slug,
          foreign.project.ref,
          foreign.serviceAccount.id,
          foreign.apiKeyId,
          foreign.invitationId,
          foreign.webhook.id,
          foreign.webhook.deliveryId,
        ].some((name) => aimed.includes(name)),
        `${field.name} is aimed at the foreign organization or project: ${aimed}`,
      );
      const declared = field.args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
      const passed = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
      const selection = isObjectType(getNamedType(field.type)) ? ' { __typename }' : '';
      const document = `${kind}${declared ? ` (${declared})` : ''} { ${field.name}${passed ? `(${passed})` : ''}${selection} }`;
      for (const actor of ACTORS) {
        const expired = !actor.signedIn || actor.key === 'expired' || actor.key === 'revoked';
        await attempt(actor, expired ? 'UNAUTHENTICATED' : 'NOT_FOUND', document, variables);
      }
    }
  });

  it("every operation of the operator's is FORBIDDEN to all but its platform roles (UNAUTHENTICATED anonymously), and a denial changes nothing", async () => {
    const operations = [
      ...Object.values(schema.getQueryType()?.getFields() ?? {}).map((field) => ['query', field] as const),
      ...Object.values(schema.getMutationType()?.getFields() ?? {}).map((field) => ['mutation', field] as const),
    ].flatMap(([kind, field]) => {
      const guard = guards.get(`${kind === 'query' ? 'Query' : 'Mutation'}.${field.name}`);
      return guard?.some(isPlatformPermission) ? [{ kind, field, needs: guard }] : [];
    });
    assert.ok(operations.length >= 8);
    for (const { kind, field, needs } of operations) {
      const variables = Object.fromEntries(field.args.map((arg) => [arg.name, argument(arg.name, arg.type, foreign)]));
      const declared = field.args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
      const passed = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
      const selection = isObjectType(getNamedType(field.type)) ? ' { __typename }' : '';
      const document = `${kind}${declared ? ` (${declared})` : ''} { ${field.name}${passed ? `(${passed})` : ''}${selection} }`;
      for (const actor of ACTORS) {
        const outcome = expectedOutcome(actor, 'platform', needs);
        // What the operator's roles may do is done, with its own rules, by the cases of test/api/authorization.test.ts.
        if (outcome !== 'OK') await attempt(actor, outcome, document, variables);
      }
    }
  });
});
