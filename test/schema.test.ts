import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  getNamedType,
  GraphQLID,
  introspectionFromSchema,
  introspectionTypes,
  isNonNullType,
  isObjectType,
  lexicographicSortSchema,
  parse,
  specifiedScalarTypes,
  validate,
  type GraphQLObjectType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { accessRules, unintendedPublicOperations } from '../src/resolvers/access-rules';
import { buildApiSchema } from '../src/schema';
import { printApiSchema, SCHEMA_FILE } from '../scripts/emit-schema';
import { ok } from './support/given';
import { startTestApp, type TestApp } from './support/server';

const SNAPSHOT = path.join(__dirname, '..', '..', 'test', 'access-rules.snapshot.txt');

describe('the published contract', () => {
  let sdl: string;
  before(async () => {
    sdl = await printApiSchema();
  });

  it('schema.graphql is the SDL the resolvers build (run `npm run schema` after changing them)', () => {
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), sdl);
  });

  it('every query and mutation requires a signed-in caller, except the public ones', () => {
    assert.deepEqual(unintendedPublicOperations(), []);
  });

  it('who can reach each operation and field is what the reviewed snapshot says', () => {
    const current = accessRules()
      .map((rule) => `${rule.field.padEnd(48)} ${rule.requires}`)
      .join('\n')
      .concat('\n');
    if (process.env.UPDATE_SNAPSHOTS === '1') writeFileSync(SNAPSHOT, current);
    assert.equal(
      current,
      readFileSync(SNAPSHOT, 'utf8'),
      'a change of who can do what: review it, then UPDATE_SNAPSHOTS=1 npm test',
    );
  });

  it('secrets are never plain fields of an entity', () => {
    assert.doesNotMatch(sdl, /hashedPassword|tokenHash/);
  });
});

/** Types a client's cache keeps inside their parent, with no identity of their own. */
/** Parts of an audit event, values without an identity of their own. */
const AUDIT_VALUES = new Set(['AuditActor', 'AuditTarget', 'AuditChange']);

function isValueType(name: string): boolean {
  return (
    name.endsWith('Connection') ||
    name.endsWith('Payload') ||
    name === 'PageInfo' ||
    name === 'BillingAddress' ||
    AUDIT_VALUES.has(name)
  );
}

/** The schema a tool builds from the committed file, as graphql-codegen, graphql-eslint and editors do. */
function committedSchema(): GraphQLSchema {
  return buildSchema(readFileSync(SCHEMA_FILE, 'utf8'));
}

describe('a schema tools can read', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  it('the committed SDL is what the running server introspects: every type, field, argument and description', async () => {
    const query = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    });
    const served = ok(await app.gql<IntrospectionQuery>(query));
    const sorted = (schema: GraphQLSchema) => introspectionFromSchema(lexicographicSortSchema(schema));
    assert.deepEqual(sorted(committedSchema()), sorted(buildClientSchema(served)));
  });

  it('schema.graphql names its roots: a query and a mutation root, and no subscription root', () => {
    assert.match(readFileSync(SCHEMA_FILE, 'utf8'), /^schema \{\n {2}query: Query\n {2}mutation: Mutation\n\}/);
    const schema = committedSchema();
    assert.equal(schema.getQueryType()?.name, 'Query');
    assert.equal(schema.getMutationType()?.name, 'Mutation');
    assert.equal(schema.getSubscriptionType(), undefined);
    // A type named Subscription was read as the subscription root by tools that read the file.
    assert.equal(schema.getType('Subscription'), undefined);
    assert.ok(isObjectType(schema.getType('BillingSubscription')));
    const billing = parse(
      'query ($slug: String!) { organization(slug: $slug) { billing { subscription { id status } } } }',
    );
    assert.deepEqual(validate(schema, billing), []);
  });

  it('no type takes a name that a root operation type or a built-in type has', async () => {
    const schema = await buildApiSchema();
    const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
    const reserved = new Set([
      'Query',
      'Mutation',
      'Subscription',
      ...specifiedScalarTypes.map((type) => type.name),
      ...introspectionTypes.map((type) => type.name),
    ]);
    const taken = Object.values(schema.getTypeMap())
      .filter((type) => !roots.includes(type as GraphQLObjectType) && !specifiedScalarTypes.includes(type as never))
      .filter((type) => !introspectionTypes.includes(type as never))
      .map((type) => type.name)
      .filter((name) => reserved.has(name));
    assert.deepEqual(taken, []);
  });

  it("every object type a client's normalized cache holds has an id: ID!", async () => {
    const schema = await buildApiSchema();
    const roots = new Set([schema.getQueryType()?.name, schema.getMutationType()?.name]);
    const withoutId = Object.values(schema.getTypeMap())
      .filter((type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__'))
      .filter((type) => !roots.has(type.name) && !isValueType(type.name))
      .filter((type) => {
        const id = type.getFields().id;
        return !id || !isNonNullType(id.type) || getNamedType(id.type) !== GraphQLID;
      })
      .map((type) => type.name);
    assert.deepEqual(withoutId, []);
  });
});
