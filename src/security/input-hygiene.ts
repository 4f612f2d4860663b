import type {
  ApolloServerPlugin,
  BaseContext,
  GraphQLRequestContextDidResolveOperation,
  GraphQLRequestListener,
} from '@apollo/server';
import { GraphQLError } from 'graphql';
import { stringLiterals } from '../graphql/string-literals';

/** NUL (PostgreSQL text cannot hold it) or half of a surrogate pair (not Unicode, not UTF-8). */
// eslint-disable-next-line no-control-regex -- NUL is what it looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

interface Visit {
  value: unknown;
  key: string;
  parent: Visit | null;
}

function pathOf(visit: Visit): string {
  const keys: string[] = [];
  for (let at: Visit | null = visit; at; at = at.parent) keys.unshift(at.key);
  return keys.join('.');
}

/**
 * The path of the first string in `value` that no column could store, or null. Iterative, and
 * the path is built only for a hit: JSON can nest deeper than the stack.
 */
export function unstorableString(value: unknown, root: string): string | null {
  const stack: Visit[] = [{ value, key: root, parent: null }];
  while (stack.length > 0) {
    const visit = stack.pop() as Visit;
    const current = visit.value;
    if (typeof current === 'string') {
      if (UNSTORABLE.test(current)) return pathOf(visit);
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) stack.push({ value: item, key, parent: visit });
    }
  }
  return null;
}

function check({ document, request }: GraphQLRequestContextDidResolveOperation<BaseContext>): void {
  const variable = unstorableString(request.variables ?? {}, 'variables');
  if (variable === null && !stringLiterals(document).some((value) => UNSTORABLE.test(value))) return;
  const where = variable ? ` (${variable})` : '';
  throw new GraphQLError(`Strings must be valid Unicode without NUL characters${where}`, {
    extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
  });
}

/**
 * Refuses, before anything runs, strings that no column can store and that trip validators
 * downstream (a lone surrogate makes the e-mail validator throw): one answer for every field.
 */
export function inputHygienePlugin(): ApolloServerPlugin {
  const listener: GraphQLRequestListener<BaseContext> = {
    didResolveOperation: (context) => new Promise<void>((resolve) => resolve(check(context))),
  };
  return { requestDidStart: () => Promise.resolve(listener) };
}
