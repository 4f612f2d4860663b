import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
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
} from 'graphql';
import { buildApiSchema } from '../../src/schema';
import {
  eventually,
  given,
  snapshot,
  untilActive,
  type TestOrganization,
  type TestProject,
  type TestUser,
} from '../support/given';
import { startTestApp, type TestApp } from '../support/server';
import { holds } from './property';

/** Runs per mutation; FUZZ_RUNS raises it (`npm run test:nightly`). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);

/** Every code a client may be answered with; INTERNAL_SERVER_ERROR is not one of them here. */
const CLIENT_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'PLAN_LIMIT_REACHED',
  'RATE_LIMITED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PAYLOAD_TOO_LARGE',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202eevil',
  '\ufeffbom',
  'zero\u200bwidth',
  'e\u0301\u0301\u0301',
  '👩‍👩‍👧‍👦',
  '\uffff',
  'İstanbul',
  'STRASSE ß',
  'user＠example.com',
  "' OR '1'='1' --",
  '"; DROP TABLE users; --',
  "'); DELETE FROM organizations; --",
  '${jndi:ldap://127.0.0.1/x}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '{{7*7}}',
  '%00%27',
  '\\',
  '$where',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  'a'.repeat(321),
  'é'.repeat(5_000),
  'x'.repeat(200_000),
  '00000000-0000-0000-0000-000000000000',
  'ZmFrZQ',
  'a@b',
  'ada@example.com',
];

const hostileString = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 1 },
);

/** Any JSON value where the schema wants something else. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constantFrom(2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, 1e308),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.constant({ $gt: '' }),
  fc.integer({ min: 1, max: 2000 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown),
);

/** Stands for the fixture's current slug or ref, read when the request is sent. */
const REAL = { slug: Symbol('slug'), ref: Symbol('ref') };

/**
 * Mostly well-typed values full of hostile strings, some of the wrong type at any depth.
 * References to an organization or project are sometimes the fixture's own, to get past the
 * lookup into the code that writes.
 */
function valueFor(type: GraphQLInputType, name: string, useRealReferences: boolean): fc.Arbitrary<unknown> {
  const typed = (): fc.Arbitrary<unknown> => {
    const inner = isNonNullType(type) ? type.ofType : type;
    if (isListType(inner)) return fc.array(valueFor(inner.ofType, name, useRealReferences), { maxLength: 3 });
    if (isInputObjectType(inner)) {
      const fields = Object.values(inner.getFields());
      return fc.record(
        Object.fromEntries(fields.map((field) => [field.name, valueFor(field.type, field.name, useRealReferences)])),
        { requiredKeys: fields.filter((field) => isNonNullType(field.type)).map((field) => field.name) },
      );
    }
    if (isEnumType(inner)) return fc.constantFrom(...inner.getValues().map((value) => value.name));
    if (isScalarType(inner) && (inner.name === 'Int' || inner.name === 'Float')) {
      return fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(2 ** 31 - 1, -(2 ** 31)));
    }
    if (isScalarType(inner) && inner.name === 'Boolean') return fc.boolean();
    if (useRealReferences && /^(organizationS|s)lug$/.test(name)) {
      return fc.oneof(fc.constant(REAL.slug), hostileString);
    }
    if (useRealReferences && /^(projectR|r)ef$/.test(name)) return fc.oneof(fc.constant(REAL.ref), hostileString);
    return hostileString;
  };
  return fc.oneof({ arbitrary: typed(), weight: 5 }, { arbitrary: wrongValue, weight: 1 });
}

/** A document calling `field` with one variable per argument, selecting only __typename. */
function documentFor(field: GraphQLField<unknown, unknown>): string {
  const variables = field.args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
  const args = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const selection = isObjectType(getNamedType(field.type)) ? ' { __typename }' : '';
  return `mutation${variables ? ` (${variables})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
}

const REFERENCE = /^(organizationSlug|slug|ref|projectRef)$/;

interface Answer {
  status: number;
  text: string;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } | null;
}

async function send(app: TestApp, init: RequestInit, url: string = app.server.url): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: Answer['body'] = null;
  try {
    body = JSON.parse(text) as Answer['body'];
  } catch {
    body = null;
  }
  return { status: response.status, text, body };
}

/** A 4xx, or a GraphQL answer whose errors all carry a client code; never a 5xx, never an untyped error. */
function assertTyped(answer: Answer, what: string): void {
  const detail = `${what}: ${answer.status} ${answer.text.slice(0, 500)}`;
  assert.ok(answer.status < 500, detail);
  assert.ok(answer.body, `${detail} (the body is JSON)`);
  for (const error of answer.body.errors ?? []) {
    assert.ok(CLIENT_CODES.has(String(error.extensions?.code)), detail);
    assert.doesNotMatch(error.message, /at .*\.js|QueryFailedError|relation "|violates/, detail);
  }
  if (answer.status >= 400) assert.ok(answer.body.errors?.length, detail);
}

describe('fuzzing', () => {
  let app: TestApp;
  let owner: TestUser;
  let organization: TestOrganization;
  let project: TestProject;

  const json = (body: unknown, token?: string): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

  /** No project is moving between states, so that no background step writes under a snapshot. */
  const settled = () =>
    eventually(async () =>
      assert.deepEqual(await app.sql("SELECT id FROM projects WHERE status IN ('COMING_UP', 'RESTORING')"), []),
    );

  before(async () => {
    app = await startTestApp();
    const make = given(app);
    owner = await make.user();
    organization = await make.organization({ owner });
    project = await make.project({ organization, by: owner });
    await untilActive(app, project);
  });
  after(() => app.close());

  it('malformed JSON, odd bodies and wrong content types get a 4xx and a code', async () => {
    const bodies = [
      '',
      ' ',
      '{',
      '{"query":',
      'null',
      '[]',
      '[{"query":"{ __typename }"}]',
      '"{ __typename }"',
      '42',
      'true',
      '{}',
      '{"query": 42}',
      '{"query": null}',
      '{"query": ["{ __typename }"]}',
      '{"query": "{ __typename }", "variables": "x"}',
      '{"query": "{ __typename }", "variables": [1]}',
      '{"query": "{ __typename }", "operationName": 42}',
      '{"query": "{ __typename }", "operationName": "Missing"}',
      '{"query": "{ __typename }", "extensions": "x"}',
      '{"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}',
      '{"__proto__": {"query": "{ __typename }"}}',
      '\ufeff{"query": "{ __typename }"}',
      `{"query": "{ __typename }", "variables": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      `{"query": "{ __typename }", "variables": {${Array.from({ length: 20_000 }, (_, i) => `"k${i}": ${i}`).join(',')}}}`,
      '{"query": "\\u0000"}',
      '{"query": "{ __typename }", "query": "mutation { x }"}',
    ];
    for (const body of bodies) assertTyped(await send(app, json(body)), `body ${body.slice(0, 80)}`);
    const invalidUtf8 = Buffer.concat([
      Buffer.from('{"query": "{ __typename } # '),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"}'),
    ]);
    assertTyped(await send(app, { ...json(''), body: invalidUtf8 }), 'invalid UTF-8');

    const valid = JSON.stringify({ query: '{ __typename }' });
    for (const contentType of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/graphql',
      'application/json; charset=utf-16',
      '',
    ]) {
      const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
      assertTyped(await send(app, { method: 'POST', headers, body: valid }), `content type "${contentType}"`);
    }
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      assertTyped(await send(app, { ...json(valid), method }), method);
    }
    const mutationByGet = `${app.server.url}?query=${encodeURIComponent('mutation { logIn(input: {email: "a", password: "b"}) { accessToken } }')}`;
    assertTyped(await send(app, { headers: { 'apollo-require-preflight': 'true' } }, mutationByGet), 'GET mutation');
  });

  it('huge and deeply nested documents are refused before they run', async () => {
    const documents = [
      `{ ${'me { '.repeat(5_000)}id${' }'.repeat(5_000)} }`,
      `{ ${'organizations { nodes { projects { nodes { organization { '.repeat(3)}id${' } } } } }'.repeat(3)} }`,
      `query ($x: [[[[[[[[[[Int]]]]]]]]]]) { __typename }`,
      `{ ${Array.from({ length: 400 }, (_, i) => `a${i}: __typename`).join(' ')} }`,
      Array.from({ length: 200 }, (_, i) => `query q${i} { __typename }`).join('\n'),
      `fragment a on Query { ...b } fragment b on Query { ...a } { ...a }`,
      `{ me { id } } ${'#'.repeat(900_000)}`,
      `{ __typename ${'@include(if: true) '.repeat(300)} }`,
      `{ me { id } } ${'x'.repeat(2 * 1024 * 1024)}`,
    ];
    for (const query of documents) assertTyped(await send(app, json({ query }, owner.token)), query.slice(0, 80));
  });

  it('any string as a document is answered with a 4xx or a typed error', async () => {
    const base = '{ organizations(first: 2) { nodes { slug projects { nodes { ref } } } } }';
    const mutated = fc
      .tuple(fc.nat({ max: base.length }), fc.nat({ max: 10 }), fc.string({ unit: 'binary', maxLength: 6 }))
      .map(([at, remove, insert]) => base.slice(0, at) + insert + base.slice(at + remove));
    await holds(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), mutated), async (query) => {
        assertTyped(await send(app, json({ query }, owner.token)), JSON.stringify(query));
      }),
      RUNS * 10,
    );
  });

  it('every mutation given hostile or mistyped variables answers with a typed error, and invalid input writes nothing', async () => {
    const schema = await buildApiSchema();
    const mutations = Object.values(schema.getMutationType()?.getFields() ?? {});
    assert.ok(mutations.length > 10);
    const failures: string[] = [];
    for (const field of mutations) {
      const document = documentFor(field);
      // Real references only where another argument can still make the input invalid.
      const useReal = field.args.some((arg) => !REFERENCE.test(arg.name));
      const variables = fc.record(
        Object.fromEntries(field.args.map((arg) => [arg.name, valueFor(arg.type, arg.name, useReal)])),
      );
      const failure = holds(
        fc.asyncProperty(variables, async (generated) => {
          const [current] = await app.sql<{ slug: string; ref: string }>(
            'SELECT o.slug, p.ref FROM organizations o JOIN projects p ON p.organization_id = o.id WHERE p.id = $1',
            [project.id],
          );
          const sent = JSON.stringify(generated, (_key, value: unknown) =>
            value === REAL.slug ? current?.slug : value === REAL.ref ? current?.ref : value,
          );
          const before = await snapshot(app);
          const answer = await send(
            app,
            json(`{"query": ${JSON.stringify(document)}, "variables": ${sent}}`, owner.token),
          );
          assertTyped(answer, `${field.name} ${sent.slice(0, 300)}`);
          if (answer.body?.errors?.length) {
            assert.deepEqual(
              await snapshot(app),
              before,
              `${field.name} with invalid input wrote nothing: ${sent.slice(0, 300)}`,
            );
          } else {
            // Valid after all (a hostile name can be a fine name): let background steps settle.
            await settled();
          }
        }),
        RUNS,
      ).then(
        () => undefined,
        (error: Error) => error.message,
      );
      const message = await failure;
      if (message) failures.push(`${field.name}: ${message}`);
    }
    assert.deepEqual(failures, []);
  });

  it('the server is still up and serving after all of it', async () => {
    assert.equal((await fetch(new URL('/healthz', app.server.url))).status, 200);
    assert.equal((await fetch(new URL('/readyz', app.server.url))).status, 200);
    await given(app).user();
  });
});
