import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type OperationDefinitionNode } from 'graphql';
import type { ServerMetrics } from './metrics';

/** Operation names are the client's: past this many distinct ones, the rest count as "other". */
const MAX_OPERATION_NAMES = 200;

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

/** The operations whose refusals are log-in throttling (src/security/auth-throttle.ts). */
const THROTTLED_FIELDS = new Set(['logIn', 'signUp', 'acceptInvitation']);

/** A bounded label for an operation name: clients must not be able to grow the server's series without end. */
function operationLabel(seen: Set<string>, name: string | null | undefined): string {
  if (!name) return 'anonymous';
  if (!GRAPHQL_NAME.test(name)) return 'invalid';
  if (seen.has(name)) return name;
  if (seen.size >= MAX_OPERATION_NAMES) return 'other';
  seen.add(name);
  return name;
}

/** The schema field behind a top-level response key (an alias is the client's, the field is the schema's). */
function rootField(operation: OperationDefinitionNode | undefined, key: unknown): string {
  const field = operation?.selectionSet.selections.find(
    (selection) => selection.kind === Kind.FIELD && (selection.alias ?? selection.name).value === key,
  );
  const name = field?.kind === Kind.FIELD ? field.name.value : undefined;
  return name && THROTTLED_FIELDS.has(name) ? name : 'other';
}

/** Counts every GraphQL request by operation and outcome (as the client saw it), with its latency. */
export function graphqlMetricsPlugin(metrics: ServerMetrics): ApolloServerPlugin {
  const seen = new Set<string>();
  return {
    requestDidStart: () => {
      const started = process.hrtime.bigint();
      return Promise.resolve({
        willSendResponse: ({ response, operationName, request, operation }) => {
          const errors = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
          const code = errors[0]?.extensions?.code;
          const outcome = errors.length === 0 ? 'ok' : typeof code === 'string' ? code : 'error';
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          metrics.graphqlRequest(operationLabel(seen, operationName ?? request.operationName), outcome, seconds);
          for (const error of errors) {
            if (error.extensions?.code === 'RATE_LIMITED') metrics.authThrottled(rootField(operation, error.path?.[0]));
          }
          return Promise.resolve();
        },
      });
    },
  };
}
