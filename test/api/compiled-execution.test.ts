import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
import { untilActive, given, type TestOrganization, type TestProject, type TestUser } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

interface Request {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  as?: 'owner' | 'reader' | 'anonymous';
}

/**
 * Queries run compiled by graphql-jit; GRAPHQL_COMPILED_QUERIES=false has graphql-js interpret
 * them. Two servers over one database, one of each, must give the same answers, byte for byte
 * in their JSON: data, errors (messages, paths, locations, codes) and HTTP status, for the
 * shapes a client can send.
 */
describe('compiled queries answer as graphql-js does', () => {
  let app: TestApp;
  let interpreted: RunningServer;
  let owner: TestUser;
  let reader: TestUser;
  let organization: TestOrganization;
  let project: TestProject;

  before(async () => {
    const secrets = {
      AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    };
    app = await startTestApp(secrets);
    interpreted = await startServer(
      loadConfig({
        NODE_ENV: 'test',
        DATABASE_URL: app.databaseUrl,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
        GRAPHQL_COMPILED_QUERIES: 'false',
        ...secrets,
      }),
    );
    const make = given(app);
    owner = await make.user();
    reader = await make.user();
    organization = await make.organization({ owner });
    await make.member({ organization, role: 'MEMBER', by: owner, user: reader });
    project = await make.project({ organization, by: owner, name: 'Granted' });
    const other = await make.project({ organization, by: owner, name: 'Not granted' });
    await make.grant({ project, user: reader, level: 'READ', by: owner });
    // Both servers must see the same statuses: no start may finish between their answers.
    await untilActive(app, project);
    await untilActive(app, other);
  });
  after(async () => {
    await interpreted.stop();
    await app.close();
  });

  async function ask(url: string, request: Request) {
    const token = request.as === 'anonymous' ? null : request.as === 'reader' ? reader.token : owner.token;
    const { query, variables, operationName } = request;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables, operationName }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function sameAnswer(request: Request) {
    const compiled = await ask(app.server.url, request);
    assert.deepEqual(compiled, await ask(interpreted.url, request), request.query);
    // The same query again: this time from the compiled cache.
    assert.deepEqual(await ask(app.server.url, request), compiled);
    return compiled;
  }

  const slug = () => ({ slug: organization.slug });

  it('the dashboard, for an owner and for a member who sees one project', async () => {
    const query = `{ organizations { totalCount pageInfo { hasNextPage endCursor } nodes {
      slug name myRole myPermissions members { nodes { role user { email displayName } } }
      projects(first: 5) { totalCount pageInfo { hasNextPage endCursor } nodes { id ref name status region myAccess } } } } }`;
    const owners = await sameAnswer({ query });
    assert.equal((owners.body.data as { organizations: { totalCount: number } }).organizations.totalCount, 1);
    await sameAnswer({ query, as: 'reader' });
  });

  it('aliases, fragments, inline fragments and __typename', async () => {
    await sameAnswer({
      query: `query ($slug: String!) {
        a: organization(slug: $slug) { ...Org }
        b: organization(slug: $slug) { __typename label: name ... on Organization { slug } }
      }
      fragment Org on Organization { __typename id projects(first: 1) { nodes { ...Proj } pageInfo { endCursor } } }
      fragment Proj on Project { __typename ref myAccess organization { slug } }`,
      variables: slug(),
    });
  });

  it('@skip and @include, from literals and from variables', async () => {
    const query = `query ($slug: String!, $skipRole: Boolean!, $withProjects: Boolean!) {
      organization(slug: $slug) {
        name myRole @skip(if: $skipRole) slug @include(if: false)
        projects @include(if: $withProjects) { totalCount }
      }
    }`;
    for (const [skipRole, withProjects] of [
      [true, false],
      [false, true],
    ]) {
      await sameAnswer({ query, variables: { ...slug(), skipRole, withProjects } });
    }
  });

  it('custom scalars and enums: billing dates, statuses and amounts', async () => {
    await sameAnswer({
      query: `query ($slug: String!) { organization(slug: $slug) { billing {
        subscription { status cancelAtPeriodEnd currentPeriodStart currentPeriodEnd plan { code } }
        upcomingInvoice { number status periodStart periodEnd issuedAt totalCents lines { nodes { description amountCents } } }
      } } }`,
      variables: slug(),
    });
  });

  it('errors: partial data with the failing field null, its path, location and code', async () => {
    // A reader may see the project but not its service-role key.
    await sameAnswer({
      query: `query ($ref: String!) { project(ref: $ref) { name credentials { anonKey serviceRoleKey } } }`,
      variables: { ref: project.ref },
      as: 'reader',
    });
    await sameAnswer({
      query: `query ($slug: String!) { organization(slug: $slug) { name projects(after: "not-a-cursor") { totalCount } } }`,
      variables: slug(),
    });
    await sameAnswer({ query: `{ organization(slug: "no-such-organization") { name } }` });
    await sameAnswer({ query: `{ organizations { totalCount } }`, as: 'anonymous' });
  });

  it('a string literal that graphql-jit would have written into code as code stays a string', async () => {
    const slug = '__MAGIC_DATE__33a9e76d_02e0_4128_8e92_3530ad3da74d0), x: (globalThis.injectedBySlug = 1';
    const answer = await sameAnswer({ query: `{ organization(slug: ${JSON.stringify(slug)}) { name } }` });
    assert.equal((globalThis as { injectedBySlug?: number }).injectedBySlug, undefined);
    assert.deepEqual(
      (answer.body.errors as { extensions: { code: string } }[]).map((error) => error.extensions.code),
      ['NOT_FOUND'],
    );
  });

  it('bad variables and operation names are refused the same way, with nothing run', async () => {
    const refused = await sameAnswer({
      query: 'query ($first: Int) { organizations(first: $first) { totalCount } }',
      variables: { first: 'ten' },
    });
    assert.equal(refused.status, 400);
    await sameAnswer({ query: 'query ($slug: String!) { organization(slug: $slug) { name } }', variables: {} });
    const twoOperations = 'query A { organizations { totalCount } } query B { organization(slug: "x") { name } }';
    await sameAnswer({ query: twoOperations, operationName: 'A' });
    await sameAnswer({ query: twoOperations, operationName: 'Missing' });
    await sameAnswer({ query: twoOperations });
  });
});
