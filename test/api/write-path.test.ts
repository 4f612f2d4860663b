import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { given, ok, type TestOrganization, type TestProject, type TestUser } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

const RENAME =
  'mutation ($ref: String!, $name: String!) { updateProject(ref: $ref, input: { name: $name }) { ref name } }';

/**
 * A simple change is one statement: the rename carries its permission check, so it reads nothing
 * first. A rename that matches nothing answers what the guard would have answered, and changes nothing.
 */
describe('write path: a rename in one statement', () => {
  let app: TestApp;
  let owner: TestUser;
  let viewer: TestUser;
  let organization: TestOrganization;
  let project: TestProject;

  before(async () => {
    app = await startTestApp();
    const make = given(app);
    owner = await make.user();
    viewer = await make.user();
    organization = await make.organization({ owner });
    project = await make.project({ organization, by: owner, name: 'Before' });
    await make.member({ organization, role: 'VIEWER', by: owner, user: viewer });
    await make.grant({ project, user: viewer, level: 'READ', by: owner });
  });
  after(() => app.close());

  const nameOf = async () =>
    (await app.sql<{ name: string }>('SELECT name FROM projects WHERE ref = $1', [project.ref]))[0].name;

  it('an admin renames a project in one statement', async () => {
    const response = await app.gql<{ updateProject: { name: string } }>(
      RENAME,
      { ref: project.ref, name: 'After' },
      owner.token,
    );
    assert.equal(ok(response).updateProject.name, 'After');
    assert.equal(Number(response.headers.get('x-sql-statements')), 1);
    assert.equal(await nameOf(), 'After');
  });

  it('a viewer with a read grant is FORBIDDEN, and the name stays', async () => {
    const before = await nameOf();
    const response = await app.gql(RENAME, { ref: project.ref, name: 'Viewer was here' }, viewer.token);
    assert.deepEqual(
      response.errors?.map((error) => error.extensions.code),
      ['FORBIDDEN'],
    );
    assert.equal(await nameOf(), before);
  });

  it('an outsider, and an unknown ref, are NOT_FOUND alike, and nothing changes', async () => {
    const outsider = await given(app).user();
    const before = await nameOf();
    const foreign = await app.gql(RENAME, { ref: project.ref, name: 'Outsider was here' }, outsider.token);
    const unknown = await app.gql(RENAME, { ref: 'a'.repeat(16), name: 'Nobody' }, owner.token);
    assert.deepEqual(
      [foreign, unknown].map((response) => response.errors?.map((error) => error.extensions.code)),
      [['NOT_FOUND'], ['NOT_FOUND']],
    );
    assert.equal(await nameOf(), before);
  });

  it('a member whose grant was removed can no longer rename', async () => {
    const member = await given(app).user();
    const make = given(app);
    await make.member({ organization, role: 'MEMBER', by: owner, user: member });
    await make.grant({ project, user: member, level: 'WRITE', by: owner });
    ok(await app.gql(RENAME, { ref: project.ref, name: 'By the member' }, member.token));
    ok(
      await app.gql(
        'mutation ($ref: String!, $userId: ID!) { revokeProjectPermission(projectRef: $ref, userId: $userId) }',
        { ref: project.ref, userId: member.id },
        owner.token,
      ),
    );
    const response = await app.gql(RENAME, { ref: project.ref, name: 'After revoke' }, member.token);
    assert.deepEqual(
      response.errors?.map((error) => error.extensions.code),
      ['NOT_FOUND'],
    );
    assert.equal(await nameOf(), 'By the member');
  });
});

describe('a demoted member keeps no grant above what the new role may hold', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  it('demoting a member to viewer lowers their grants to READ; promoting them back does not restore ADMIN', async () => {
    const make = given(app);
    const owner = await make.user();
    const member = await make.user();
    const organization = await make.organization({ owner });
    const project = await make.project({ organization, by: owner });
    await make.member({ organization, role: 'MEMBER', by: owner, user: member });
    await make.grant({ project, user: member, level: 'ADMIN', by: owner });
    const setRole = (role: string) =>
      app.gql(
        'mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }',
        { input: { organizationSlug: organization.slug, userId: member.id, role } },
        owner.token,
      );
    const stored = async () =>
      (
        await app.sql<{ access_level: string }>('SELECT access_level FROM permissions WHERE user_id = $1', [member.id])
      ).map((row) => row.access_level);
    ok(await setRole('VIEWER'));
    assert.deepEqual(await stored(), ['read']);
    ok(await setRole('MEMBER'));
    assert.deepEqual(await stored(), ['read']);
    const access = await app.gql<{ project: { myAccess: string } }>(
      'query ($ref: String!) { project(ref: $ref) { myAccess } }',
      { ref: project.ref },
      member.token,
    );
    assert.equal(ok(access).project.myAccess, 'READ');
  });
});
