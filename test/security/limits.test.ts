import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config';
import { given, ok, type TestUser } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

type Response = GraphQLResponse<unknown>;

const secrets = {
  AUTH_TOKEN_SECRET: Buffer.alloc(32, 1).toString('base64'),
  ENCRYPTION_KEY: Buffer.alloc(32, 2).toString('base64'),
};

/** What production needs besides its secrets, for the configuration alone (no server is started on it). */
const database = {
  DATABASE_URL: 'postgres://platform@db.internal:5432/platform',
  SMTP_URL: 'smtp://mail.internal:587',
};

/** Posts a raw body, for what `app.gql` cannot send. */
async function post(app: TestApp, body: string, headers: Record<string, string> = {}): Promise<Response> {
  const response = await fetch(app.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const json = (await response.json()) as { data?: unknown; errors?: Response['errors'] };
  return { status: response.status, headers: response.headers, data: json.data ?? null, errors: json.errors };
}

/** Asserts that the document was refused before it ran, with `code`, and returns the message. */
function refused(response: Response, code = 'GRAPHQL_VALIDATION_FAILED'): string {
  assert.equal(response.status, 400, JSON.stringify(response.errors));
  assert.equal(response.data, null);
  assert.equal(response.errors?.length, 1, JSON.stringify(response.errors));
  assert.equal(response.errors[0].extensions.code, code, JSON.stringify(response.errors));
  return response.errors[0].message;
}

/** `{ a0: me { id } a1: me { id } … }` */
function aliased(count: number): string {
  return `{ ${Array.from({ length: count }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
}

/** Nine levels: organizations > nodes > projects > nodes > organization > projects > nodes > organization > id. */
const NINE_DEEP =
  '{ organizations { nodes { projects { nodes { organization { projects { nodes { organization { id } } } } } } } } }';
/** The deepest path a client needs: a grant's user, eight levels down. */
const EIGHT_DEEP = '{ organizations { nodes { projects { nodes { permissions { nodes { user { email } } } } } } } }';
/** `count` directives, each on a field of its own (a directive may appear once per location). */
function directives(count: number): string {
  return `{ me { id ${'__typename @include(if: true) '.repeat(count)} } }`;
}

const PAGED = `query ($orgs: Int, $projects: Int) {
  organizations(first: $orgs) { nodes { projects(first: $projects) { nodes { id name ref region status } } } }
}`;

describe('query limits', () => {
  let app: TestApp;
  let owner: TestUser;
  before(async () => {
    app = await startTestApp();
    owner = await given(app).user();
  });
  after(() => app.close());

  it(`a document nested deeper than the depth limit (8) is refused before it runs`, async () => {
    assert.match(refused(await app.gql(NINE_DEEP, {}, owner.token)), /depth limit of 8 exceeded, found 9/);
    ok(await app.gql(EIGHT_DEEP, {}, owner.token));
  });

  it('a document with more aliases than the limit (15) is refused', async () => {
    assert.match(refused(await app.gql(aliased(16), {}, owner.token)), /Aliases limit of 15 exceeded, found 16/);
    ok(await app.gql(aliased(15), {}, owner.token));
  });

  it('a document with more tokens than the limit (1000) is refused while it is parsed', async () => {
    const padded = `{ me { ${'id '.repeat(1000)} } }`;
    assert.match(refused(await app.gql(padded, {}, owner.token), 'GRAPHQL_PARSE_FAILED'), /more tha[nt] 1000 tokens/);
  });

  it('a document with more directives than the limit (10) is refused', async () => {
    assert.match(refused(await app.gql(directives(11), {}, owner.token)), /Directives limit of 10 exceeded, found 11/);
    ok(await app.gql(directives(10), {}, owner.token));
  });

  it('a document whose written cost is over the limit is refused', async () => {
    const literal = '{ organizations(first: 100) { nodes { projects(first: 100) { nodes { id name } } } } }';
    assert.match(refused(await app.gql(literal, {}, owner.token)), /Cost limit of 5000 exceeded/);
  });

  it('page sizes passed as variables count towards the cost, also for a document seen before', async () => {
    const small = await app.gql(PAGED, { orgs: 10, projects: 10 }, owner.token);
    ok(small);
    // The same document again, now cached and not validated again, asking for 100 x 100.
    const large = await app.gql(PAGED, { orgs: 100, projects: 100 }, owner.token);
    assert.match(refused(large), /can resolve 50202 fields, more than the limit of 50000/);
    const defaulted = await app.gql(
      'query ($n: Int = 100) { organizations(first: $n) { nodes { projects(first: $n) { nodes { id name ref region status } } } } }',
      {},
      owner.token,
    );
    assert.match(refused(defaulted), /50202 fields/, 'a variable default counts too');
  });

  it('a page size above MAX_PAGE_SIZE counts as MAX_PAGE_SIZE', async () => {
    // 1 + 1 + 100 x (1 + 1 + 100 x 5), whatever the size asked for.
    const response = await app.gql(PAGED, { orgs: 1_000_000, projects: 1_000_000 }, owner.token);
    assert.match(refused(response), /50202 fields/);
  });

  it('schema hints ("Did you mean …?") are never sent', async () => {
    const attempts: [string, Record<string, unknown>][] = [
      ['{ organizaton(slug: "x") { id } }', {}],
      ['{ me { emial } }', {}],
      ['{ organizations(frist: 1) { totalCount } }', {}],
      ['mutation { updateMemberRole(input: { organizationSlug: "x", userId: "x", role: ADMN }) { role } }', {}],
      [
        'mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }',
        { input: { organizationSlug: 'x', userId: 'x', role: 'ADMN' } },
      ],
      [
        'mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }',
        { input: { emial: 'a@example.com', password: 'a long enough password' } },
      ],
      ['query ($x: Sting) { me { id } }', {}],
    ];
    for (const [document, variables] of attempts) {
      const response = await app.gql(document, variables, owner.token);
      assert.ok(response.errors?.length, document);
      for (const error of response.errors) {
        assert.doesNotMatch(error.message, /did you mean/i, document);
        assert.ok(['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT'].includes(error.extensions.code), error.message);
      }
    }
  });

  it('a request body over 1 MB is refused with 413, unread', async () => {
    const query = `{ me { id } } #${'x'.repeat(1024 * 1024)}`;
    const response = await post(app, JSON.stringify({ query }));
    assert.equal(response.status, 413);
    assert.equal(response.errors?.[0].extensions.code, 'PAYLOAD_TOO_LARGE');
  });

  it('introspection is on outside production', async () => {
    ok(await app.gql('{ __schema { queryType { name } } }'));
  });
});

describe('query limits in production', () => {
  let app: TestApp;
  let owner: TestUser;
  before(async () => {
    // Open sign-up: these tests sign up users as the accounts they need.
    app = await startTestApp({ NODE_ENV: 'production', SIGNUP_MODE: 'open', ...secrets });
    owner = await given(app).user();
  });
  after(() => app.close());

  it('introspection is off, and says so without naming the server', async () => {
    const message = refused(await app.gql('{ __schema { types { name } } }'));
    assert.equal(message, 'GraphQL introspection is disabled.');
    refused(await app.gql('{ __type(name: "Organization") { fields { name } } }'));
  });

  it('limit messages say which limit, never its value', async () => {
    const messages = [
      refused(await app.gql(NINE_DEEP, {}, owner.token)),
      refused(await app.gql(aliased(16), {}, owner.token)),
      refused(await app.gql(`{ me { ${'id '.repeat(1000)} } }`, {}, owner.token), 'GRAPHQL_PARSE_FAILED'),
      refused(await app.gql(directives(11), {}, owner.token)),
      refused(await app.gql(PAGED, { orgs: 100, projects: 100 }, owner.token)),
    ];
    for (const message of messages) assert.doesNotMatch(message, /\d/, message);
    const tooLarge = await post(app, JSON.stringify({ query: `{ me { id } } #${'x'.repeat(1024 * 1024)}` }));
    assert.equal(tooLarge.status, 413);
    assert.doesNotMatch(tooLarge.errors?.[0].message ?? '', /\d/);
  });

  it('GET shows no landing page', async () => {
    const response = await fetch(app.server.url, { headers: { accept: 'text/html' } });
    assert.notEqual(response.headers.get('content-type')?.split(';')[0], 'text/html');
  });
});

describe('configured limits', () => {
  let app: TestApp;
  let owner: TestUser;
  before(async () => {
    app = await startTestApp({
      NODE_ENV: 'production',
      SIGNUP_MODE: 'open',
      ...secrets,
      GRAPHQL_INTROSPECTION: 'true',
      GRAPHQL_MAX_DEPTH: '3',
      GRAPHQL_MAX_ALIASES: '2',
      GRAPHQL_MAX_EXECUTION_COST: '50',
      MAX_PAGE_SIZE: '2',
      MAX_BODY_BYTES: '2048',
    });
    owner = await given(app).user();
  });
  after(() => app.close());

  it('GRAPHQL_INTROSPECTION=true enables introspection in production', async () => {
    ok(await app.gql('{ __schema { queryType { name } } }'));
  });

  it('each limit follows its variable', async () => {
    refused(await app.gql('{ organizations { nodes { projects { totalCount } } } }', {}, owner.token));
    refused(await app.gql(aliased(3), {}, owner.token));
    ok(await app.gql(aliased(2), {}, owner.token));
    const big = await post(app, JSON.stringify({ query: `{ me { id } } #${'x'.repeat(2048)}` }));
    assert.equal(big.status, 413);
  });

  it('every first is capped by MAX_PAGE_SIZE, and the cost counts the cap', async () => {
    const make = given(app);
    for (let i = 0; i < 3; i += 1) await make.organization({ owner });
    const page = ok(
      await app.gql<{ organizations: { nodes: unknown[]; pageInfo: { hasNextPage: boolean } } }>(
        'query ($first: Int) { organizations(first: $first) { nodes { slug } pageInfo { hasNextPage } } }',
        { first: 1000 },
        owner.token,
      ),
    );
    assert.equal(page.organizations.nodes.length, 2);
    assert.equal(page.organizations.pageInfo.hasNextPage, true);
  });
});

describe('configuration of the limits', () => {
  const bad: Record<string, string> = {
    GRAPHQL_MAX_DEPTH: '0',
    GRAPHQL_MAX_ALIASES: 'many',
    GRAPHQL_MAX_TOKENS: '5',
    GRAPHQL_MAX_DIRECTIVES: '-1',
    GRAPHQL_MAX_COST: '1.5',
    GRAPHQL_MAX_EXECUTION_COST: '0',
    GRAPHQL_INTROSPECTION: 'yes',
    MAX_BODY_BYTES: '10',
    AUTH_RATE_LIMIT_PER_ACCOUNT: '0',
    AUTH_RATE_LIMIT_PER_ADDRESS: 'lots',
    AUTH_RATE_LIMIT_WINDOW_SECONDS: '0',
    TRUST_PROXY_HOPS: '-1',
    CORS_ORIGINS: '*',
    DATABASE_CONNECT_TIMEOUT_MS: '0',
  };
  for (const [variable, value] of Object.entries(bad)) {
    it(`refuses ${variable}=${value}, naming it`, () => {
      assert.throws(
        () => loadConfig({ NODE_ENV: 'production', ...secrets, ...database, [variable]: value }),
        (error: unknown) => error instanceof ConfigError && error.variable === variable,
      );
    });
  }

  it('CORS_ORIGINS takes exact origins only', () => {
    for (const value of ['https://studio.example.com/app', 'studio.example.com', 'ftp://x', 'https://a.example, *']) {
      assert.throws(
        () => loadConfig({ NODE_ENV: 'production', ...secrets, ...database, CORS_ORIGINS: value }),
        ConfigError,
        value,
      );
    }
    const config = loadConfig({
      NODE_ENV: 'production',
      ...secrets,
      ...database,
      CORS_ORIGINS: 'https://studio.example.com, http://localhost:3000/',
    });
    assert.deepEqual(config.corsOrigins, ['https://studio.example.com', 'http://localhost:3000']);
  });

  it('the defaults are the documented ones', () => {
    const config = loadConfig({ NODE_ENV: 'production', ...secrets, ...database });
    assert.deepEqual(config.queryLimits, {
      maxDepth: 8,
      maxAliases: 15,
      maxTokens: 1000,
      maxDirectives: 10,
      maxCost: 5000,
      maxExecutionCost: 50_000,
    });
    assert.deepEqual(config.authRateLimit, { perAccount: 10, perAddress: 50, windowSeconds: 900 });
    assert.equal(config.maxBodyBytes, 1024 * 1024);
    assert.equal(config.maxPageSize, 100);
    assert.equal(config.introspection, false);
    assert.deepEqual(config.corsOrigins, []);
    assert.equal(config.trustProxyHops, 0);
  });
});
