import type { Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { GraphQLSchema, ValidationRule } from 'graphql';
import type { Logger } from 'pino';
import type { AppConfig } from '../config';
import { createErrorFormatter, serverFaultLogPlugin } from '../errors';
import { compiledExecution } from '../graphql/compiled-executor';
import { DEFAULT_PAGE_SIZE } from '../graphql/pagination';
import { loadTrustedDocuments, type TrustedDocuments } from '../graphql/trusted-documents';
import type { RequestContext } from '../request/context';
import { buildApiSchema } from '../schema';
import { inputHygienePlugin } from '../security/input-hygiene';
import { executionCostPlugin, queryLimitRules } from '../security/query-limits';
import { landingPageWithGraphiQL } from './landing-page';

export interface StartedApollo {
  apollo: ApolloServer<RequestContext>;
  /** The documents clients may name by hash (TRUSTED_DOCUMENTS); null when none are configured. */
  trustedDocuments: TrustedDocuments | null;
}

/** Without a manifest no document can be named by hash, and Apollo's own document cache is used. */
function trustedDocumentsOf(config: AppConfig, schema: GraphQLSchema, validationRules: ValidationRule[]) {
  const { manifest, only } = config.trustedDocuments;
  if (!manifest) return null;
  const parseOptions = { maxTokens: config.queryLimits.maxTokens };
  return loadTrustedDocuments(manifest, { schema, parseOptions, validationRules }, only);
}

/** Apollo over the API schema, with its limits and plugins (and `extraPlugins`), started and ready to execute. */
export async function startApollo(
  config: AppConfig,
  httpServer: Server,
  log: Logger,
  extraPlugins: ApolloServerPlugin<RequestContext>[] = [],
): Promise<StartedApollo> {
  const production = config.nodeEnv === 'production';
  const schema = await buildApiSchema();
  const validationRules = queryLimitRules(config.queryLimits, production);
  const trustedDocuments = trustedDocumentsOf(config, schema, validationRules);
  const apollo = new ApolloServer<RequestContext>({
    ...(config.compiledQueries ? { gateway: compiledExecution(schema) } : { schema }),
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: true,
    // Apollo's default, stated: a simple request (a form, a GET without a preflight header) is refused.
    csrfPrevention: true,
    // Clients cannot fill the server's cache with documents: only trusted ones are named by hash.
    ...(trustedDocuments
      ? {
          persistedQueries: { cache: trustedDocuments.persistedQueryCache(), ttl: null },
          documentStore: trustedDocuments.documentStore(),
        }
      : { persistedQueries: false as const }),
    parseOptions: { maxTokens: config.queryLimits.maxTokens },
    validationRules,
    formatError: createErrorFormatter(log, { production }),
    logger: log,
    plugins: [
      // In-flight requests get most of the shutdown timeout; then their connections are cut.
      ApolloServerPluginDrainHttpServer({
        httpServer,
        stopGracePeriodMillis: Math.floor(config.shutdownTimeoutMs * 0.8),
      }),
      // No cache hints are set or sent; the default plugin would still wrap every field resolver.
      ApolloServerPluginCacheControlDisabled(),
      serverFaultLogPlugin(),
      inputHygienePlugin(),
      executionCostPlugin(
        config.queryLimits.maxExecutionCost,
        { default: DEFAULT_PAGE_SIZE, max: config.maxPageSize },
        production,
      ),
      production ? ApolloServerPluginLandingPageDisabled() : landingPageWithGraphiQL(),
      ...extraPlugins,
    ],
    // main.ts owns the signals: it drains, then closes the pool and the embedded database.
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  return { apollo, trustedDocuments };
}
