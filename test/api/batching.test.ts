import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { given, type TestUser } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

const DASHBOARD = `{
  organizations {
    totalCount
    nodes { slug myRole members { nodes { role user { email } } } projects { totalCount nodes { ref myAccess } } }
  }
}`;

describe('relation batching', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  async function statements(token: string): Promise<number> {
    const response = await app.gql(DASHBOARD, {}, token);
    assert.equal(response.errors, undefined);
    return Number(response.headers.get('x-sql-statements'));
  }

  async function addOrganization(owner: TestUser, member: TestUser) {
    const make = given(app);
    const organization = await make.organization({ owner });
    await make.member({ organization, role: 'MEMBER', by: owner, user: member });
    await make.project({ organization, by: owner });
    await make.project({ organization, by: owner });
  }

  it('the SQL statements of the dashboard query do not grow with organizations, members or projects', async () => {
    const make = given(app);
    const owner = await make.user();
    const member = await make.user();
    await addOrganization(owner, member);
    const ownerWithOne = await statements(owner.token);
    const memberWithOne = await statements(member.token);
    for (let i = 0; i < 4; i += 1) await addOrganization(owner, member);
    const ownerWithFive = await statements(owner.token);
    assert.ok(ownerWithOne > 0, 'statements are counted');
    assert.equal(ownerWithFive, ownerWithOne);
    // organizations with roles, members with their users, project pages, grants: at most 1 + the query depth.
    assert.ok(ownerWithFive <= 4, `at most 4 statements, got ${ownerWithFive}`);
    assert.equal(await statements(member.token), memberWithOne, 'also for a member, who sees granted projects only');
  });
});
