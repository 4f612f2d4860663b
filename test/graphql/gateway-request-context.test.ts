import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import pino from 'pino';
import { requestScope } from '../../src/database/request-database';
import { compiledExecution } from '../../src/graphql/compiled-executor';
import {
  buildGatewayRequestContext,
  gatewayRequestContextBuilders,
  type HeaderMapHeaders,
} from '../../src/graphql/gateway-request-context';
import { encodeCursor, toPage } from '../../src/graphql/pagination';

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { a: { type: GraphQLString } } }),
});

/** A request context as Apollo's pipeline hands it to the builder. */
function apolloRequestContext() {
  return {
    request: {
      query: '{ a }',
      operationName: 'A',
      variables: { x: 1 },
      extensions: { e: true },
      http: { method: 'POST', search: 'x=1', headers: new Map([['accept', 'application/json']]) },
    },
    response: { http: { status: undefined as number | undefined, headers: new Map([['x-one', '1']]) } },
    contextValue: { viewer: null },
    schema,
    queryHash: 'hash',
    document: { kind: 'Document' },
    source: '{ a }',
    operationName: 'A',
    operation: { kind: 'OperationDefinition' },
    errors: undefined,
    metrics: { persistedQueryHit: false },
    overallCachePolicy: { maxAge: 0 },
    requestIsBatched: false,
  };
}

const server = { logger: { name: 'logger' }, cache: { name: 'cache' } };
const internals = { includeStacktraceInErrorResponses: false };

/** Everything a gateway executor can read, accessors and header methods included, as plain data. */
function seen(context: unknown) {
  const c = context as {
    request: { http?: { headers: HeaderMapHeaders } & Record<string, unknown> } & Record<string, unknown>;
    response: { http: { status?: number; headers: HeaderMapHeaders } };
  } & Record<string, unknown>;
  const headers = (h: HeaderMapHeaders) => [...h];
  return {
    ...c,
    request: { ...c.request, http: c.request.http && { ...c.request.http, headers: headers(c.request.http.headers) } },
    response: { http: { status: c.response.http.status, headers: headers(c.response.http.headers) } },
  };
}

describe('the request context Apollo hands the compiled executor', () => {
  it("is built by ours once compiled execution is set up, in place of Apollo's", () => {
    compiledExecution(schema);
    const { current, apollos } = gatewayRequestContextBuilders();
    assert.equal(current, buildGatewayRequestContext);
    assert.notEqual(apollos, buildGatewayRequestContext);
  });

  it("holds what Apollo's own holds, field for field", () => {
    compiledExecution(schema);
    const { apollos } = gatewayRequestContextBuilders();
    assert.deepEqual(
      seen(buildGatewayRequestContext(apolloRequestContext(), server, internals)),
      seen(apollos(apolloRequestContext(), server, internals)),
    );
  });

  it("writes the status and headers through to Apollo's response, as Apollo's does", () => {
    for (const build of [buildGatewayRequestContext, gatewayRequestContextBuilders().apollos]) {
      const given = apolloRequestContext();
      const { response } = build(given, server, internals) as {
        response: { http: { status?: number; headers: HeaderMapHeaders } };
      };
      response.http.status = 418;
      response.http.headers.append('x-one', '2');
      response.http.headers.set('x-two', 'b');
      response.http.headers.delete('x-missing');
      assert.equal(given.response.http.status, 418);
      assert.equal(response.http.status, 418);
      assert.deepEqual(
        [...given.response.http.headers],
        [
          ['x-one', '1, 2'],
          ['x-two', 'b'],
        ],
      );
      assert.equal(response.http.headers.get('x-none'), null);
      assert.equal(response.http.headers.has('x-two'), true);
    }
  });

  // V8 allocates the pair holding an object's own getter and setter in the old generation, where
  // it keeps what the accessors reach (the whole request) alive until a full collection.
  it('has no accessors of its own, where Apollo gave each one a getter and setter (so do pages and request scopes)', () => {
    const ownAccessors = (value: object) =>
      Object.entries(Object.getOwnPropertyDescriptors(value))
        .filter(([, descriptor]) => 'get' in descriptor || 'set' in descriptor)
        .map(([name]) => name);
    const built = (build: typeof buildGatewayRequestContext) =>
      build(apolloRequestContext(), server, internals) as { response: { http: object } };
    assert.deepEqual(ownAccessors(built(buildGatewayRequestContext).response.http), []);
    assert.deepEqual(ownAccessors(built(gatewayRequestContextBuilders().apollos).response.http), ['status']);
    const first = { id: '0b8e4f6a-7a3c-4f7e-9d1e-3c2b1a0f9e8d', createdAt: new Date(1) };
    const second = { id: '1c9f5a7b-8b4d-4a8f-8e2f-4d3c2b1a0f9e', createdAt: new Date(2) };
    const { pageInfo } = toPage([first, second], 1, 2);
    assert.deepEqual(ownAccessors(pageInfo), []);
    assert.deepEqual([pageInfo.hasNextPage, pageInfo.endCursor], [true, encodeCursor(first)]);
    assert.deepEqual([toPage([], 1, 0).pageInfo.hasNextPage, toPage([], 1, 0).pageInfo.endCursor], [false, null]);
    assert.deepEqual(ownAccessors(requestScope(pino({ level: 'silent' }), 'id')), []);
  });
});
