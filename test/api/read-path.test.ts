import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { given, ok, type TestOrganization, type TestProject, type TestUser } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

type Json = Record<string, unknown>;

interface ProjectPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: { ref: string; name: string }[];
}

/**
 * The pages a studio opens read everything in one statement: the query's selection is looked
 * ahead so that members and project pages come with their organizations, and credentials with
 * their project. These tests hold the count to one, and the answers to what the field resolvers
 * answer on their own (the look-ahead is off when `projects` is asked with two sets of arguments).
 */
describe('read path: one statement per page', () => {
  let app: TestApp;
  let owner: TestUser;
  let member: TestUser;
  let organization: TestOrganization;
  let projects: TestProject[];

  before(async () => {
    app = await startTestApp();
    const make = given(app);
    owner = await make.user();
    member = await make.user();
    organization = await make.organization({ owner });
    await make.member({ organization, role: 'MEMBER', by: owner, user: member });
    projects = [
      await make.project({ organization, by: owner, name: 'First' }),
      await make.project({ organization, by: owner, name: 'Second' }),
    ];
    await make.grant({ project: projects[1], user: member, level: 'READ', by: owner });
    // A second organization, so that the dashboard batches several.
    const other = await make.organization({ owner });
    await make.project({ organization: other, by: owner, name: 'Elsewhere' });
  });
  after(() => app.close());

  async function read<T = Json>(query: string, variables: Json, token: string) {
    const response = await app.gql<T>(query, variables, token);
    return { data: ok(response), statements: Number(response.headers.get('x-sql-statements')) };
  }

  const PAGE = 'totalCount pageInfo { hasNextPage endCursor } nodes { ref name }';

  it('the dashboard: organizations, my role, members and project pages in one statement', async () => {
    const { data, statements } = await read<{ organizations: { nodes: { slug: string; projects: ProjectPage }[] } }>(
      `{ organizations { totalCount nodes { slug myRole members { nodes { role user { email } } } projects { ${PAGE} } } } }`,
      {},
      owner.token,
    );
    assert.equal(statements, 1);
    const mine = data.organizations.nodes.find((node) => node.slug === organization.slug);
    assert.deepEqual(
      mine?.projects.nodes.map((node) => node.name),
      ['First', 'Second'],
    );
    assert.equal(mine?.projects.totalCount, 2);
  });

  it('the nested pages match what the projects field reads on its own, page after page', async () => {
    const looked = async (after: string | null) =>
      read<{ organization: { projects: ProjectPage } }>(
        `query ($slug: String!, $after: String) { organization(slug: $slug) { projects(first: 1, after: $after) { ${PAGE} } } }`,
        { slug: organization.slug, after },
        owner.token,
      );
    const alone = async (after: string | null) =>
      read<{ organization: { projects: ProjectPage } }>(
        `query ($slug: String!, $after: String) {
          organization(slug: $slug) { projects(first: 1, after: $after) { ${PAGE} } other: projects(first: 5) { totalCount } }
        }`,
        { slug: organization.slug, after },
        owner.token,
      );
    const first = await looked(null);
    assert.equal(first.statements, 1);
    assert.deepEqual(first.data.organization.projects, (await alone(null)).data.organization.projects);
    assert.equal(first.data.organization.projects.pageInfo.hasNextPage, true);
    assert.deepEqual(
      first.data.organization.projects.nodes.map((node) => node.ref),
      [projects[0].ref],
    );

    const cursor = first.data.organization.projects.pageInfo.endCursor;
    const second = await looked(cursor);
    const secondAlone = await alone(cursor);
    assert.ok(secondAlone.statements > 1, 'with two sets of arguments, the fields read on their own');
    assert.deepEqual(second.data.organization.projects, secondAlone.data.organization.projects);
    assert.deepEqual(
      second.data.organization.projects.nodes.map((node) => node.ref),
      [projects[1].ref],
    );
    assert.equal(second.data.organization.projects.pageInfo.hasNextPage, false);
  });

  it('a member sees only the projects granted to them, through the same statement', async () => {
    const { data, statements } = await read<{ organization: { myRole: string; projects: ProjectPage } }>(
      `query ($slug: String!) { organization(slug: $slug) { myRole projects { ${PAGE} } } }`,
      { slug: organization.slug },
      member.token,
    );
    assert.equal(statements, 1);
    assert.equal(data.organization.myRole, 'MEMBER');
    assert.equal(data.organization.projects.totalCount, 1);
    assert.deepEqual(
      data.organization.projects.nodes.map((node) => node.ref),
      [projects[1].ref],
    );
  });

  it('read on their own, project pages keep to what the caller sees, for one organization and for several', async () => {
    // A member of one organization granted one of its two projects, and the owner of another one.
    const make = given(app);
    const viewer = await make.user();
    const shared = await make.organization({ owner });
    const granted = await make.project({ organization: shared, by: owner, name: 'Granted' });
    await make.project({ organization: shared, by: owner, name: 'Not granted' });
    await make.member({ organization: shared, role: 'MEMBER', by: owner, user: viewer });
    await make.grant({ project: granted, user: viewer, level: 'READ', by: owner });
    const own = await make.organization({ owner: viewer });
    const ownProject = await make.project({ organization: own, by: viewer, name: 'Own' });

    // Two sets of arguments turn the look-ahead off: the pages are read by the projects field.
    const one = await read<{ organization: { projects: ProjectPage; all: ProjectPage } }>(
      `query ($slug: String!) { organization(slug: $slug) { projects { ${PAGE} } all: projects(first: 5) { ${PAGE} } } }`,
      { slug: shared.slug },
      viewer.token,
    );
    assert.ok(one.statements > 1);
    assert.deepEqual(
      one.data.organization.projects.nodes.map((node) => node.ref),
      [granted.ref],
    );
    assert.deepEqual(one.data.organization.all, one.data.organization.projects);

    type Nodes = { organizations: { nodes: { slug: string; projects: ProjectPage; all?: ProjectPage }[] } };
    const several = await read<Nodes>(
      `{ organizations { nodes { slug projects { ${PAGE} } all: projects(first: 5) { ${PAGE} } } } }`,
      {},
      viewer.token,
    );
    assert.ok(several.statements > 1);
    const refs = (slug: string) =>
      several.data.organizations.nodes.find((node) => node.slug === slug)?.all?.nodes.map((node) => node.ref);
    assert.deepEqual(refs(shared.slug), [granted.ref]);
    assert.deepEqual(refs(own.slug), [ownProject.ref]);
    const looked = await read<Nodes>(`{ organizations { nodes { slug projects { ${PAGE} } } } }`, {}, viewer.token);
    assert.equal(looked.statements, 1);
    for (const node of several.data.organizations.nodes) {
      assert.deepEqual(node.all, node.projects);
      assert.deepEqual(node.projects, looked.data.organizations.nodes.find((n) => n.slug === node.slug)?.projects);
    }
  });

  it('the organization page: members in joining order with their users, in one statement', async () => {
    const { data, statements } = await read<{ organization: { members: { nodes: { role: string; user: Json }[] } } }>(
      `query ($slug: String!) { organization(slug: $slug) { name members { nodes { role user { id email } } } projects { totalCount } } }`,
      { slug: organization.slug },
      owner.token,
    );
    assert.equal(statements, 1);
    assert.deepEqual(data.organization.members.nodes, [
      { role: 'OWNER', user: { id: owner.id, email: owner.email } },
      { role: 'MEMBER', user: { id: member.id, email: member.email } },
    ]);
  });

  it('times read with the members are the times the user’s own read gives, to the millisecond', async () => {
    // Microseconds just below a millisecond, and before 1970, are where rounding would show.
    for (const lastLogin of ['2026-05-01 12:00:00.999999+00', '1969-12-31 23:59:59.998500+00', null]) {
      await app.sql('UPDATE users SET last_login_at = $1 WHERE id = $2', [lastLogin, member.id]);
      const { data, statements } = await read<{ organization: { members: { nodes: { user: Json }[] } } }>(
        `query ($slug: String!) { organization(slug: $slug) { members { nodes { user { id lastLoginAt } } } } }`,
        { slug: organization.slug },
        owner.token,
      );
      assert.equal(statements, 1);
      const alone = await read<{ me: Json }>('{ me { id lastLoginAt } }', {}, member.token);
      assert.deepEqual(data.organization.members.nodes.find((m) => m.user.id === member.id)?.user, alone.data.me);
      const expected =
        lastLogin === null
          ? null
          : lastLogin.startsWith('2026')
            ? '2026-05-01T12:00:00.999Z'
            : '1969-12-31T23:59:59.998Z';
      assert.equal(alone.data.me.lastLoginAt, expected);
    }
  });

  it('two projects asked side by side come in one batch of two keys, as each comes alone', async () => {
    const fields = 'ref name myAccess credentials { anonKey }';
    const both = await read<Record<string, Json>>(
      `query ($a: String!, $b: String!) { a: project(ref: $a) { ${fields} } b: project(ref: $b) { ${fields} } }`,
      { a: projects[0].ref, b: projects[1].ref },
      owner.token,
    );
    assert.equal(both.statements, 1);
    const alone = async (ref: string) =>
      (
        await read<{ project: Json }>(
          `query ($ref: String!) { project(ref: $ref) { ${fields} } }`,
          { ref },
          owner.token,
        )
      ).data.project;
    assert.deepEqual(both.data.a, await alone(projects[0].ref));
    assert.deepEqual(both.data.b, await alone(projects[1].ref));
    assert.deepEqual([both.data.a.name, both.data.b.name], ['First', 'Second']);
  });

  it('a project with its credentials, in one statement', async () => {
    const { data, statements } = await read<{ project: { credentials: Record<string, string> } }>(
      `query ($ref: String!) { project(ref: $ref) { name myAccess credentials { anonKey serviceRoleKey jwtSecret } } }`,
      { ref: projects[0].ref },
      owner.token,
    );
    assert.equal(statements, 1);
    assert.match(data.project.credentials.anonKey, /^ey/);
    assert.ok(!data.project.credentials.jwtSecret.startsWith('enc:'), 'the secret is decrypted');
  });

  it('an outsider asking for an organization with its members and projects gets NOT_FOUND and nothing else', async () => {
    const outsider = await given(app).user();
    const response = await app.gql(
      `query ($slug: String!) { organization(slug: $slug) { members { nodes { user { email } } } projects { ${PAGE} } } }`,
      { slug: organization.slug },
      outsider.token,
    );
    assert.equal(response.data, null);
    assert.deepEqual(
      response.errors?.map((error) => error.extensions?.code),
      ['NOT_FOUND'],
    );
  });

  it('a nested cursor that is not one of ours is the field’s BAD_USER_INPUT, as without the look-ahead', async () => {
    const response = await app.gql(
      `query ($slug: String!) { organization(slug: $slug) { name projects(after: "not-a-cursor") { totalCount } } }`,
      { slug: organization.slug },
      owner.token,
    );
    assert.deepEqual(
      response.errors?.map((error) => [error.path, error.extensions?.code]),
      [[['organization', 'projects'], 'BAD_USER_INPUT']],
    );
  });
  it("reads plan once per connection on a pool of their own; TypeORM keeps PostgreSQL's default planning", async () => {
    const { dataSource } = app.server;
    const lean = await dataSource.leanReadPool?.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode');
    assert.equal(lean?.rows[0].plan_cache_mode, 'force_generic_plan');
    const [main] = await dataSource.query<{ plan_cache_mode: string }[]>('SHOW plan_cache_mode');
    assert.equal(main.plan_cache_mode, 'auto');
  });

  it("the server's statements name their schema: its pools run on PostgreSQL's default search_path, as through a pooler", async () => {
    const { dataSource } = app.server;
    const lean = await dataSource.leanReadPool?.query<{ search_path: string }>('SHOW search_path');
    assert.equal(lean?.rows[0].search_path, '"$user", public');
    const [main] = await dataSource.query<{ search_path: string }[]>('SHOW search_path');
    assert.equal(main.search_path, '"$user", public');
    assert.equal(dataSource.connectionMode.pooled, false);
    assert.equal(dataSource.connectionMode.namedStatements, true);
  });

  it(
    'a read connection that PostgreSQL ends between two statements is dropped from the pool, and the process lives on',
    { timeout: 10_000 },
    async () => {
      const pool = app.server.dataSource.leanReadPool;
      assert.ok(pool);
      const client = await pool.connect();
      const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
      const ended = new Promise((resolve) => client.once('end', resolve));
      // As a fast shutdown or a pooler does: the session ends while no statement of it runs.
      await app.sql('SELECT pg_terminate_backend($1)', [pid]);
      await ended;
      const open = pool.totalCount;
      client.release();
      assert.equal(pool.totalCount, open - 1, 'the ended connection is not handed out again');
      const response = await app.gql<{ project: { name: string } }>(
        'query ($ref: String!) { project(ref: $ref) { name } }',
        { ref: projects[0].ref },
        owner.token,
      );
      assert.equal(ok(response).project.name, 'First');
    },
  );

  // Last: it changes the schema under the running server, as a rolling deploy's migration does.
  it('a migration that changes the type of a column the prepared reads return does not break them', async () => {
    const query = 'query ($ref: String!) { project(ref: $ref) { name region } }';
    // Prepared on several of the pool's connections by concurrent requests.
    await Promise.all(Array.from({ length: 6 }, () => app.gql(query, { ref: projects[0].ref }, owner.token)));
    await app.sql('ALTER TABLE projects ALTER COLUMN region TYPE text');
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        app.gql<{ project: { region: string } }>(query, { ref: projects[0].ref }, owner.token),
      ),
    );
    for (const answer of answers) assert.equal(ok(answer).project.region, 'eu-west-1');
  });
});
