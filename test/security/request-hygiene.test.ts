import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eventually, given, ok, withoutChanges, type TestUser } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

const secrets = {
  AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
};

type LogLine = Record<string, unknown> & { level: number; msg: string; requestId?: string };

/** A pino destination that keeps every line. */
function logSink() {
  const lines: LogLine[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } };
}

/** What a production response must never show: SQL, driver and class names, table names, stack frames. */
const INTERNALS =
  /select|insert|relation|user_roles|QueryFailed|typeorm|postgres|pg_|constraint|stack|at .*\.js|\.ts:\d+/i;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('errors in production', () => {
  let app: TestApp;
  let owner: TestUser;
  const logs = logSink();
  before(async () => {
    app = await startTestApp(
      // Open sign-up: these tests sign up users as the accounts they need.
      { NODE_ENV: 'production', SIGNUP_MODE: 'open', LOG_LEVEL: 'debug', ...secrets },
      {
        logDestination: logs.destination,
      },
    );
    owner = await given(app).user();
    await given(app).organization({ owner });
  });
  after(() => app.close());

  it('an unexpected failure is INTERNAL_SERVER_ERROR with an error id, and the log line has the cause', async () => {
    // A failure no code path expects: a table gone under the running server.
    await app.sql('DROP TABLE user_roles CASCADE');
    const firstLine = logs.lines.length;
    const response = await fetch(app.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
      body: JSON.stringify({ query: '{ organizations { totalCount nodes { slug myRole } } }' }),
    });
    const text = await response.text();
    assert.doesNotMatch(text, INTERNALS);
    const body = JSON.parse(text) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    assert.equal(body.errors.length, 1);
    const [error] = body.errors;
    assert.equal(error.message, 'Internal server error');
    assert.deepEqual(Object.keys(error.extensions).sort(), ['code', 'errorId']);
    assert.equal(error.extensions.code, 'INTERNAL_SERVER_ERROR');
    assert.match(String(error.extensions.errorId), UUID);

    const requestId = response.headers.get('x-request-id');
    assert.ok(requestId);
    const logged = logs.lines.find((line) => line.errorId === error.extensions.errorId);
    assert.ok(logged, 'the error id is in the log');
    assert.equal(logged.msg, 'unexpected error');
    assert.equal(logged.requestId, requestId);
    const cause = logged.err as { message: string; stack: string };
    assert.match(cause.message, /user_roles/, 'the log has the full cause');
    assert.match(cause.stack, /QueryFailedError/);

    // The access log line is written once the response has gone.
    await eventually(() =>
      Promise.resolve(assert.ok(logs.lines.some((l) => l.requestId === requestId && l.msg === 'request'))),
    );
    const served = logs.lines.slice(firstLine);
    assert.ok(
      served.some((line) => line.msg === 'sql failed'),
      'the SQL layer logs too',
    );
    assert.deepEqual(
      served.filter((line) => line.requestId !== requestId),
      [],
      'every line logged while serving the request carries its id',
    );
  });
});

describe('request hygiene', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ NODE_ENV: 'production', SIGNUP_MODE: 'open', ...secrets });
  });
  after(() => app.close());

  const requests: [string, () => Promise<Response>][] = [
    ['a query', () => fetch(app.server.url, post({ query: '{ __typename }' }))],
    ['a bad document', () => fetch(app.server.url, post({ query: '{' }))],
    ['bad JSON', () => fetch(app.server.url, { ...post({}), body: '{' })],
    ['an unknown path', () => fetch(new URL('/nothing', app.server.url))],
    ['the health check', () => fetch(new URL('/healthz', app.server.url))],
    ['the readiness check', () => fetch(new URL('/readyz', app.server.url))],
  ];

  function post(body: unknown, headers: Record<string, string> = {}): RequestInit {
    return { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
  }

  for (const [what, send] of requests) {
    it(`${what} is answered with a request id and the security headers`, async () => {
      const response = await send();
      await response.arrayBuffer();
      assert.match(response.headers.get('x-request-id') ?? '', UUID);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('x-frame-options'), 'DENY');
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(response.headers.get('cache-control'), 'no-store');
      assert.match(response.headers.get('strict-transport-security') ?? '', /max-age=\d+/);
      assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.equal(response.headers.get('access-control-allow-origin'), null);
    });
  }

  it('a string no column can store is refused before anything runs, in the document as in variables', async () => {
    const user = await given(app).user();
    const inDocument = await withoutChanges(app, () =>
      app.gql('mutation { createOrganization(input: { name: "a\\u0000b" }) { id } }', {}, user.token),
    );
    const inVariables = await withoutChanges(app, () =>
      app.gql(
        'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }',
        { input: { name: 'a\u0000b' } },
        user.token,
      ),
    );
    const refusal = (response: GraphQLResponse) => [response.status, response.errors?.map((e) => e.extensions.code)];
    assert.deepEqual(refusal(inDocument), [400, ['BAD_USER_INPUT']]);
    assert.deepEqual(refusal(inVariables), [400, ['BAD_USER_INPUT']]);
    assert.match(inVariables.errors?.[0].message ?? '', /\(variables\.input\.name\)$/);
  });

  it("a proxy's well-formed request id is kept, anything else replaced", async () => {
    const kept = await fetch(app.server.url, post({ query: '{ __typename }' }, { 'x-request-id': 'lb-1234.abc_Z' }));
    assert.equal(kept.headers.get('x-request-id'), 'lb-1234.abc_Z');
    const replaced = await fetch(app.server.url, post({ query: '{ __typename }' }, { 'x-request-id': 'bad id\u00e9' }));
    assert.match(replaced.headers.get('x-request-id') ?? '', UUID);
  });

  it('CSRF prevention refuses simple requests: a text/plain POST or a GET without a preflight header', async () => {
    const email = `csrf-${randomBytes(4).toString('hex')}@example.com`;
    const signUp = {
      query: 'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken } }',
      variables: { input: { email, password: 'a long enough password', displayName: 'C' } },
    };
    const plain = await withoutChanges(app, () =>
      fetch(app.server.url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify(signUp),
      }),
    );
    assert.equal(plain.status, 400);
    assert.match(await plain.text(), /CSRF/);
    const get = await fetch(`${app.server.url}?query=${encodeURIComponent('{ __typename }')}`);
    assert.equal(get.status, 400);
    const preflighted = await fetch(`${app.server.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    assert.equal(preflighted.status, 200);
  });

  it('by default no origin gets cross-origin access, and preflights are refused', async () => {
    const preflight = await fetch(app.server.url, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    const cross = await fetch(app.server.url, post({ query: '{ __typename }' }, { origin: 'https://evil.example' }));
    assert.equal(cross.headers.get('access-control-allow-origin'), null);
  });
});

describe('CORS with an allow-list', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ CORS_ORIGINS: 'https://studio.example.com,http://localhost:3000' });
  });
  after(() => app.close());

  it('a listed origin passes its preflight and reads responses; others get nothing', async () => {
    const preflight = await fetch(app.server.url, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://studio.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://studio.example.com');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /content-type/);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), null, 'tokens are not cookies');
    assert.match(preflight.headers.get('vary') ?? '', /Origin/);

    const allowed = await fetch(app.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://localhost:3000' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://localhost:3000');
    assert.match(allowed.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
    ok((await allowed.json()) as { data: unknown });

    const other = await fetch(app.server.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://studio.example.com.evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });
});
