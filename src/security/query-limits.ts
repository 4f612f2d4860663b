import type {
  ApolloServerPlugin,
  BaseContext,
  GraphQLRequestContextDidResolveOperation,
  GraphQLRequestListener,
} from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isListType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
  type ValueNode,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import type { QueryLimits } from '../config';

/** A rejected limit is a validation error without armor's "Syntax Error: " prefix. */
const report: GraphQLArmorRejectCallback = (context, error) =>
  context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, '')));

/**
 * graphql-armor's validation rules for depth, aliases, directives and the document's static
 * cost. They run when a document is first validated (Apollo caches validated documents), and
 * say which limit was hit; the numbers only outside production.
 */
export function queryLimitRules(limits: QueryLimits, production: boolean): ValidationRule[] {
  const common = { exposeLimits: !production, propagateOnRejection: false, onReject: [report] };
  const { validationRules } = new ApolloArmor({
    // Hidden by the error formatter instead, which also covers enum values and input fields.
    blockFieldSuggestion: { enabled: false },
    // graphql-js counts tokens while parsing (Apollo's parseOptions); armor's plugin answers 500 on a hit.
    maxTokens: { enabled: false },
    maxDepth: {
      ...common,
      n: limits.maxDepth,
      flattenFragments: true,
      errorMessage: 'The query is nested too deeply.',
    },
    maxAliases: { ...common, n: limits.maxAliases, errorMessage: 'The query has too many aliases.' },
    maxDirectives: { ...common, n: limits.maxDirectives, errorMessage: 'The query has too many directives.' },
    costLimit: {
      ...common,
      maxCost: limits.maxCost,
      flattenFragments: true,
      errorMessage: 'The query is too expensive.',
    },
  }).protect();
  return validationRules;
}

export interface PageSizes {
  /** A list without `first`, and a connection without `first`, count as this many items. */
  default: number;
  /** The server-side cap on every `first`. */
  max: number;
}

/** Walking more selections than this is an answer in itself. */
const WALK_BUDGET = 100_000;

class TooManySelections extends Error {}

/**
 * The most fields `operation` can resolve: every field counts once per parent item, and a list
 * counts as many items as its page holds, from `first` (literal, variable or variable default,
 * capped by the server's maximum) or the default page size. Introspection fields count nothing:
 * the schema bounds them. Returns Infinity for a document too large to walk. `readsVariables` is
 * false when no page size came from a variable: the cost is then the document's alone.
 */
export function executionCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  pages: PageSizes,
): { cost: number; readsVariables: boolean } {
  let readsVariables = false;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let walked = 0;
  const unpaged = Math.min(pages.default, pages.max);

  const pageSize = (value: ValueNode | undefined): number => {
    let first: unknown = null;
    if (value?.kind === Kind.INT) first = Number(value.value);
    else if (value?.kind === Kind.VARIABLE) {
      readsVariables = true;
      first = variables[value.name.value] ?? null;
    }
    if (first === null) return unpaged;
    // A negative or non-integer size is refused when the field runs.
    return typeof first === 'number' && Number.isInteger(first) && first > 0 ? Math.min(first, pages.max) : 0;
  };

  /**
   * Fields of one selection set, fragments merged in as execution merges them (each fragment
   * once per set). `page` is the page size of the connection the set belongs to, if any.
   */
  const costOf = (
    parent: GraphQLCompositeType,
    set: SelectionSetNode,
    page: number | undefined,
    seen: Set<string>,
  ): number => {
    let total = 0;
    for (const selection of set.selections) {
      walked += 1;
      if (walked > WALK_BUDGET) throw new TooManySelections();
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name === '__schema' || name === '__type') continue;
        total += 1;
        const field = 'getFields' in parent ? parent.getFields()[name] : undefined;
        const child = field && getNamedType(field.type);
        if (!selection.selectionSet || !field || !isCompositeType(child)) continue;
        const paged = field.args.some((arg) => arg.name === 'first');
        const ownPage = paged
          ? pageSize(selection.arguments?.find((arg) => arg.name.value === 'first')?.value)
          : undefined;
        const items = isListType(getNullableType(field.type)) ? (page ?? unpaged) : 1;
        total += items * costOf(child, selection.selectionSet, ownPage, new Set());
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition && schema.getType(selection.typeCondition.name.value);
        total += costOf(isCompositeType(condition) ? condition : parent, selection.selectionSet, page, seen);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || seen.has(fragment.name.value)) continue;
        seen.add(fragment.name.value);
        const condition = schema.getType(fragment.typeCondition.name.value);
        total += costOf(isCompositeType(condition) ? condition : parent, fragment.selectionSet, page, seen);
      }
    }
    return total;
  };

  const root = schema.getRootType(operation.operation);
  if (!root) return { cost: 0, readsVariables };
  try {
    return { cost: costOf(root, operation.selectionSet, undefined, new Set()), readsVariables };
  } catch (error) {
    if (error instanceof TooManySelections) return { cost: Infinity, readsVariables };
    throw error;
  }
}

/**
 * The cost check that sees variables: it runs for every operation, cached documents included,
 * once the operation to run is known and before anything executes.
 */
export function executionCostPlugin(maxCost: number, pages: PageSizes, production: boolean): ApolloServerPlugin {
  // The cost of operations whose page sizes are all literal, per parsed operation (Apollo's
  // document cache hands back the same objects for the same query text).
  const fixedCosts = new WeakMap<OperationDefinitionNode, number>();
  const costOf = ({ schema, document, operation, request }: GraphQLRequestContextDidResolveOperation<BaseContext>) => {
    if (!operation) return 0;
    const fixed = fixedCosts.get(operation);
    if (fixed !== undefined) return fixed;
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {});
    // Variables that do not coerce are refused by execution, with their own errors.
    if (coerced.errors) return 0;
    const { cost, readsVariables } = executionCost(schema, document, operation, coerced.coerced, pages);
    if (!readsVariables) fixedCosts.set(operation, cost);
    return cost;
  };
  const check = (context: GraphQLRequestContextDidResolveOperation<BaseContext>) => {
    const cost = costOf(context);
    if (cost <= maxCost) return;
    const message = production
      ? 'The query is too expensive: ask for fewer fields or smaller pages.'
      : `The query can resolve ${cost} fields, more than the limit of ${maxCost}: ask for fewer fields or smaller pages.`;
    throw new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } });
  };
  const listener: GraphQLRequestListener<BaseContext> = {
    didResolveOperation: (context) => new Promise<void>((resolve) => resolve(check(context))),
  };
  return { requestDidStart: () => Promise.resolve(listener) };
}
