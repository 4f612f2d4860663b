import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import {
  execute,
  getVariableValues,
  GraphQLError,
  OperationTypeNode,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { BoundedMap } from '../bounded-map';
import { installGatewayRequestContext } from './gateway-request-context';
import { stringLiterals } from './string-literals';

type GatewayInterface = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type GatewayExecutor = NonNullable<Awaited<ReturnType<GatewayInterface['load']>>['executor']>;

/** Queries kept compiled (or known to be interpreted); the oldest is dropped past it. */
export const MAX_COMPILED_QUERIES = 1000;

/**
 * graphql-jit's errors are GraphQLErrors without `extensions` when the thrown error had none,
 * where Apollo and the error formatter expect an object: rebuilt as graphql-js builds them.
 */
function asGraphQLError(error: GraphQLError): GraphQLError {
  const rebuilt = new GraphQLError(error.message, { path: error.path, originalError: error.originalError });
  return Object.assign(rebuilt, { locations: error.locations });
}

/**
 * Runs queries compiled by graphql-jit instead of interpreted by graphql-js. On the dashboard
 * query, graphql-js's work per field (argument maps, type checks, promise plumbing for every
 * field of every row) cost more than the SQL. Apollo still parses, validates and runs every
 * plugin; only execution changes, through Apollo's gateway executor hook, the one place where
 * Apollo lets execution be replaced.
 *
 * graphql-js stays the reference:
 * - variables are coerced by graphql-js first, so bad ones get the very errors (and the 400
 *   and BAD_USER_INPUT that Apollo adds) that they get without compilation;
 * - where graphql-jit's own coercion refuses what graphql-js accepted (it requires a non-null
 *   input field even when the field has a default), the query runs on graphql-js;
 * - subscriptions (none are served) run on graphql-js; mutations are compiled like queries, and
 *   graphql-jit runs their root fields one after another as graphql-js does.
 */
export function compiledExecution(schema: GraphQLSchema): GatewayInterface & { readonly cachedOperations: number } {
  /**
   * Compiled queries; null for those interpreted. graphql-jit (0.8.9) writes a document's literal
   * argument values into the code it generates, and turns a string that starts with its date
   * marker into `new Date(<the rest>)` unescaped: a string literal in a query could run code on
   * the server. Documents with a string literal anywhere are therefore never compiled; what
   * reaches generated code is then names (the GraphQL lexer allows only [_A-Za-z0-9]), numbers,
   * booleans and enum values. Failed compilations are interpreted too.
   */
  const compiled = new BoundedMap<string, CompiledQuery | null>(MAX_COMPILED_QUERIES);
  // Without it, Apollo's gateway path would keep each request alive until a full collection.
  installGatewayRequestContext();

  const compile = (key: string, document: DocumentNode, operationName: string | null) => {
    const outcome = stringLiterals(document).length ? null : compileQuery(schema, document, operationName ?? undefined);
    const result = outcome && isCompiledQuery(outcome) ? outcome : null;
    compiled.set(key, result);
    return result;
  };

  const executor: GatewayExecutor = async (requestContext) => {
    const { document, operation, operationName, queryHash, request, context } = requestContext;
    const variableValues = request.variables ?? {};
    // The name the client sent: Apollo's resolved one is null when it names no operation here.
    const interpreted = () =>
      execute({ schema, document, operationName: request.operationName, contextValue: context, variableValues });
    // No operation to run (none named so): graphql-js gives the error Apollo expects.
    if (operation?.operation !== OperationTypeNode.QUERY && operation?.operation !== OperationTypeNode.MUTATION) {
      return interpreted();
    }
    const definitions = operation.variableDefinitions ?? [];
    if (definitions.length) {
      const coerced = getVariableValues(schema, definitions, variableValues, { maxErrors: 50 });
      if (coerced.errors) return { errors: coerced.errors };
    }
    // A document's hash names its text; one text may hold several operations.
    const key = `${queryHash}:${operationName ?? ''}`;
    const query = compiled.has(key) ? compiled.get(key) : compile(key, document, operationName);
    if (!query) return interpreted();
    const result = await query.query(undefined, context, variableValues);
    // Without data, the compiled query refused its variables: graphql-js accepted them above.
    if (!('data' in result)) return interpreted();
    return result.errors ? { data: result.data, errors: result.errors.map(asGraphQLError) } : result;
  };

  return {
    load: () => Promise.resolve({ executor }),
    onSchemaLoadOrUpdate: (callback) => {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => undefined;
    },
    stop: () => Promise.resolve(),
    get cachedOperations() {
      return compiled.size;
    },
  };
}
