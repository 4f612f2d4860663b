import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { given, type TestUser } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

/** Well under the request body limit, far over any message worth reading. */
const LONG = 'a'.repeat(100_000);

/** The one error of a response that failed. */
function failure(response: GraphQLResponse<unknown>): { message: string; code: string } {
  assert.equal(response.errors?.length, 1, JSON.stringify(response).slice(0, 500));
  const [error] = response.errors;
  return { message: error.message, code: error.extensions.code };
}

describe('error messages quote what the client sent', () => {
  let app: TestApp;
  let viewer: TestUser;
  before(async () => {
    app = await startTestApp();
    viewer = await given(app).user();
  });
  after(() => app.close());

  it('an organization looked up by a 100 KB slug is NOT_FOUND, quoting only the start of the slug', async () => {
    const { code, message } = failure(
      await app.gql('query ($slug: String!) { organization(slug: $slug) { id } }', { slug: LONG }, viewer.token),
    );
    assert.equal(code, 'NOT_FOUND');
    assert.ok(message.length < 200, `${message.length} characters`);
    assert.equal(message, `Organization "${'a'.repeat(64)}…" was not found`);
  });

  it('a project looked up by a 100 KB ref is NOT_FOUND with a short message', async () => {
    const { code, message } = failure(
      await app.gql('query ($ref: String!) { project(ref: $ref) { id } }', { ref: LONG }, viewer.token),
    );
    assert.equal(code, 'NOT_FOUND');
    assert.ok(message.length < 200, `${message.length} characters`);
    assert.match(message, /^Project "a{64}…" was not found$/);
  });

  it('a short key is quoted whole', async () => {
    const { message } = failure(
      await app.gql(
        'query ($slug: String!) { organization(slug: $slug) { id } }',
        { slug: 'no-such-org' },
        viewer.token,
      ),
    );
    assert.equal(message, 'Organization "no-such-org" was not found');
  });

  it('a 100 KB value for an enum variable is BAD_USER_INPUT with a short message', async () => {
    const { code, message } = failure(
      await app.gql(
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }',
        { input: { organizationSlug: 'x', email: 'someone@example.com', role: LONG } },
        viewer.token,
      ),
    );
    assert.equal(code, 'BAD_USER_INPUT');
    assert.ok(message.length < 300, `${message.length} characters`);
    assert.match(message, /"a{64}…"/);
  });

  it('a 100 KB string where a number goes is BAD_USER_INPUT with a short message', async () => {
    const { code, message } = failure(
      await app.gql(
        'query ($first: Int) { organizations(first: $first) { totalCount } }',
        { first: LONG },
        viewer.token,
      ),
    );
    assert.equal(code, 'BAD_USER_INPUT');
    assert.ok(message.length < 300, `${message.length} characters`);
  });

  it('a list of long values for a string variable is BAD_USER_INPUT with a message of bounded length', async () => {
    const { code, message } = failure(
      await app.gql(
        'query ($slug: String!) { organization(slug: $slug) { id } }',
        { slug: Array.from({ length: 20 }, (_, i) => `${i}`.repeat(4000)) },
        viewer.token,
      ),
    );
    assert.equal(code, 'BAD_USER_INPUT');
    assert.ok(message.length <= 1001, `${message.length} characters`);
  });
});
