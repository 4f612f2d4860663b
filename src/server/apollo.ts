import type { Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { Logger } from 'pino';
import type { AppConfig } from '../config';
import { createErrorFormatter, serverFaultLogPlugin } from '../errors';
import { compiledExecution } from '../graphql/compiled-executor';
import { DEFAULT_PAGE_SIZE } from '../graphql/pagination';
import type { RequestContext } from '../request/context';
import { buildApiSchema } from '../schema';
import { inputHygienePlugin } from '../security/input-hygiene';
import { executionCostPlugin, queryLimitRules } from '../security/query-limits';

/** Apollo over the API schema, with its limits and plugins (and `extraPlugins`), started and ready to execute. */
export async function startApollo(
  config: AppConfig,
  httpServer: Server,
  log: Logger,
  extraPlugins: ApolloServerPlugin<RequestContext>[] = [],
): Promise<ApolloServer<RequestContext>> {
  const production = config.nodeEnv === 'production';
  const schema = await buildApiSchema();
  const apollo = new ApolloServer<RequestContext>({
    ...(config.compiledQueries ? { gateway: compiledExecution(schema) } : { schema }),
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: true,
    // Apollo's default, stated: a simple request (a form, a GET without a preflight header) is refused.
    csrfPrevention: true,
    // No automatic persisted queries: clients cannot fill the server's cache with documents.
    persistedQueries: false,
    parseOptions: { maxTokens: config.queryLimits.maxTokens },
    validationRules: queryLimitRules(config.queryLimits, production),
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
      ...(production ? [ApolloServerPluginLandingPageDisabled()] : []),
      ...extraPlugins,
    ],
    // main.ts owns the signals: it drains, then closes the pool and the embedded database.
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  return apollo;
}
