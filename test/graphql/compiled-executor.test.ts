import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  execute,
  getOperationAST,
  GraphQLBoolean,
  GraphQLError,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
} from 'graphql';
import { compiledExecution, MAX_COMPILED_QUERIES } from '../../src/graphql/compiled-executor';

let resolved = 0;

/** graphql-js answers with null-prototype objects; compared as the JSON a client gets. */
const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

/** Which engine called the resolver: graphql-jit's generated code names its origin in the stack. */
const engine = () => {
  resolved += 1;
  return new Error().stack?.includes('graphql-jit') ? 'compiled' : 'interpreted';
};

const Filter = new GraphQLInputObjectType({
  name: 'Filter',
  fields: {
    exact: { type: new GraphQLNonNull(GraphQLBoolean), defaultValue: false },
    text: { type: GraphQLString },
  },
});

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      engine: { type: GraphQLString, resolve: engine },
      echo: {
        type: GraphQLString,
        args: { s: { type: GraphQLString } },
        resolve: (_root, args: { s: string }) => args.s,
      },
      count: { type: GraphQLInt, args: { n: { type: GraphQLInt } }, resolve: (_root, args: { n: number }) => args.n },
      search: {
        type: GraphQLString,
        args: { filter: { type: new GraphQLNonNull(Filter) } },
        resolve: (_root, args: { filter: unknown }) => JSON.stringify(args.filter),
      },
      broken: {
        type: GraphQLString,
        resolve: () => {
          throw new Error('plain failure');
        },
      },
    },
  }),
  mutation: new GraphQLObjectType({
    name: 'Mutation',
    fields: {
      engine: { type: GraphQLString, resolve: engine },
      /** Starts, waits `ms`, then finishes: the order of the log shows whether root fields overlapped. */
      step: {
        type: GraphQLString,
        args: { name: { type: new GraphQLNonNull(GraphQLString) }, ms: { type: new GraphQLNonNull(GraphQLInt) } },
        resolve: async (_root, args: { name: string; ms: number }) => {
          steps.push(`${args.name} started`);
          await new Promise((resolve) => setTimeout(resolve, args.ms));
          steps.push(`${args.name} done`);
          return args.name;
        },
      },
    },
  }),
});

const steps: string[] = [];

/** What Apollo hands its gateway executor, for one document. */
async function run(gateway: ReturnType<typeof compiledExecution>, source: string, variables = {}) {
  const document = parse(source);
  const operation = getOperationAST(document);
  const { executor } = await gateway.load({ apollo: {} });
  assert.ok(executor);
  return executor({
    document,
    operation,
    operationName: operation?.name?.value ?? null,
    queryHash: createHash('sha256').update(source).digest('hex'),
    request: { query: source, variables },
    context: {},
  } as never);
}

describe('compiled execution', () => {
  it('runs queries and mutations compiled, again from its cache', async () => {
    const gateway = compiledExecution(schema);
    assert.deepEqual(json((await run(gateway, '{ engine }')).data), { engine: 'compiled' });
    assert.deepEqual(json((await run(gateway, '{ engine }')).data), { engine: 'compiled' });
    assert.equal(gateway.cachedOperations, 1);
    assert.deepEqual(json((await run(gateway, 'mutation { engine }')).data), { engine: 'compiled' });
    assert.equal(gateway.cachedOperations, 2);
  });

  it("runs a mutation's root fields one after another, as graphql-js does", async () => {
    steps.length = 0;
    const source =
      'mutation ($a: String!, $b: String!) { first: step(name: $a, ms: 30) second: step(name: $b, ms: 0) }';
    const result = await run(compiledExecution(schema), source, { a: 'a', b: 'b' });
    assert.deepEqual(json(result.data), { first: 'a', second: 'b' });
    assert.deepEqual(steps, ['a started', 'a done', 'b started', 'b done']);
  });

  it("refuses bad variables with graphql-js's own errors, and runs nothing", async () => {
    const source = 'query ($n: Int) { count(n: $n) engine }';
    const before = resolved;
    const result = await run(compiledExecution(schema), source, { n: 'ten' });
    assert.equal(resolved, before);
    const reference = await execute({ schema, document: parse(source), variableValues: { n: 'ten' } });
    assert.deepEqual(
      result.errors?.map((error) => error.message),
      reference.errors?.map((error) => error.message),
    );
    assert.equal(result.data, undefined);
  });

  it('gives a defaulted non-null input field its default, as graphql-js does', async () => {
    const source = 'query ($filter: Filter!) { search(filter: $filter) }';
    const result = await run(compiledExecution(schema), source, { filter: { text: 'db' } });
    assert.deepEqual(json(result), { data: { search: '{"exact":false,"text":"db"}' } });
  });

  it('a resolver that throws a plain error gives a GraphQLError with extensions, path and location', async () => {
    const result = await run(compiledExecution(schema), '{ engine broken }');
    assert.deepEqual(json(result.data), { engine: 'compiled', broken: null });
    const [error] = result.errors ?? [];
    assert.ok(error instanceof GraphQLError);
    assert.deepEqual(json(error.extensions), {});
    assert.deepEqual(error.path, ['broken']);
    assert.deepEqual(error.locations, [{ line: 1, column: 10 }]);
    assert.equal(error.originalError?.message, 'plain failure');
  });

  it('never compiles a document with a string literal: graphql-jit would write it into code', async () => {
    // graphql-jit 0.8.9 turns a string that starts with its date marker into `new Date(<rest>)`, unescaped.
    const payload = '__MAGIC_DATE__33a9e76d_02e0_4128_8e92_3530ad3da74d0), injected: (globalThis.injectedByQuery = 1';
    const gateway = compiledExecution(schema);
    const result = await run(gateway, `{ echo(s: ${JSON.stringify(payload)}) engine }`);
    assert.equal((globalThis as { injectedByQuery?: number }).injectedByQuery, undefined);
    assert.deepEqual(json(result), { data: { echo: payload, engine: 'interpreted' } });
    // Strings in variables never reach generated code: such a query is compiled.
    const viaVariable = await run(gateway, 'query ($s: String) { echo(s: $s) engine }', { s: payload });
    assert.deepEqual(json(viaVariable), { data: { echo: payload, engine: 'compiled' } });
  });

  it(`keeps at most ${MAX_COMPILED_QUERIES} compiled queries`, async () => {
    const gateway = compiledExecution(schema);
    for (let i = 0; i <= MAX_COMPILED_QUERIES; i += 1) {
      assert.deepEqual(json((await run(gateway, `{ n${i}: count(n: ${i}) }`)).data), { [`n${i}`]: i });
    }
    assert.equal(gateway.cachedOperations, MAX_COMPILED_QUERIES);
  });
});
