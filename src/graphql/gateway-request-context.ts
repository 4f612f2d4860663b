import path from 'node:path';

/**
 * Apollo Server (5.5) hands a gateway executor a request context it builds with an object
 * literal whose `status` accessor is a new getter and setter per request. V8 allocates the pair
 * that holds an object's own getter and setter in the old generation, and these getters reach the
 * whole request: its context, loaders, rows and result. The pair is garbage once the request
 * ends, but only a full collection frees it; until then every young-generation collection found
 * the request alive through it, copied it, then promoted it: it doubled what every request left
 * to the old generation, and the time spent in those collections (docs/performance.md).
 *
 * This builds the same context, field for field, with the accessors on a class (one pair, on the
 * prototype), and puts it in place of Apollo's builder, which Apollo's request pipeline reads
 * from its module at each call.
 */
/** The parts of Apollo's request context the builder reads. */
interface ApolloRequestContext {
  request: {
    query?: string;
    operationName?: string;
    variables?: Record<string, unknown>;
    extensions?: Record<string, unknown>;
    http?: { method: string; search: string; headers: Map<string, string> };
  };
  response: { http: { status?: number; headers: Map<string, string> } };
  contextValue: unknown;
  schema: unknown;
  queryHash?: string;
  document?: unknown;
  source?: string;
  operationName?: string | null;
  operation?: unknown;
  errors?: unknown;
  metrics: unknown;
  overallCachePolicy: unknown;
  requestIsBatched: boolean;
}

type Builder = (
  requestContext: ApolloRequestContext,
  server: { logger: unknown; cache: unknown },
  internals: { includeStacktraceInErrorResponses: boolean },
) => unknown;

/** Apollo's HeaderMap seen through the Fetch API's Headers methods, as Apollo's own wrapper does. */
export class HeaderMapHeaders {
  constructor(private readonly map: Map<string, string>) {}
  append(name: string, value: string): void {
    const present = this.map.get(name);
    this.map.set(name, present === undefined ? value : `${present}, ${value}`);
  }
  delete(name: string): void {
    this.map.delete(name);
  }
  get(name: string): string | null {
    return this.map.get(name) ?? null;
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  set(name: string, value: string): void {
    this.map.set(name, value);
  }
  entries() {
    return this.map.entries();
  }
  keys() {
    return this.map.keys();
  }
  values() {
    return this.map.values();
  }
  [Symbol.iterator]() {
    return this.map.entries();
  }
}

/** The response's HTTP part: `status` reads and writes Apollo's own response. */
export class GatewayResponseHttp {
  readonly headers: HeaderMapHeaders;
  constructor(private readonly target: { status?: number; headers: Map<string, string> }) {
    this.headers = new HeaderMapHeaders(target.headers);
  }
  get status(): number | undefined {
    return this.target.status;
  }
  set status(status: number | undefined) {
    this.target.status = status;
  }
}

export const buildGatewayRequestContext: Builder = (requestContext, server, internals) => {
  const given = requestContext.request;
  const request: Record<string, unknown> = {};
  if ('query' in given) request.query = given.query;
  if ('operationName' in given) request.operationName = given.operationName;
  if ('variables' in given) request.variables = given.variables;
  if ('extensions' in given) request.extensions = given.extensions;
  if (given.http) {
    const search = given.http.search;
    const question = search !== '' && !search.startsWith('?') ? '?' : '';
    request.http = {
      method: given.http.method,
      url: `https://unknown-url.invalid/${question}${search}`,
      headers: new HeaderMapHeaders(given.http.headers),
    };
  }
  return {
    request,
    response: { http: new GatewayResponseHttp(requestContext.response.http) },
    logger: server.logger,
    schema: requestContext.schema,
    schemaHash: 'schemaHash no longer exists since Apollo Server 4',
    context: requestContext.contextValue,
    cache: server.cache,
    queryHash: requestContext.queryHash,
    document: requestContext.document,
    source: requestContext.source,
    operationName: requestContext.operationName,
    operation: requestContext.operation,
    errors: requestContext.errors,
    metrics: requestContext.metrics,
    debug: internals.includeStacktraceInErrorResponses,
    overallCachePolicy: requestContext.overallCachePolicy,
    requestIsBatched: requestContext.requestIsBatched,
  };
};

/** Where Apollo keeps its builder: not an exported path of the package, so reached from its entry point. */
function apolloBuilderModule(): { makeGatewayGraphQLRequestContext?: unknown } {
  const entry = require.resolve('@apollo/server');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(path.dirname(entry), 'utils', 'makeGatewayGraphQLRequestContext.js')) as {
    makeGatewayGraphQLRequestContext?: unknown;
  };
}

let apollosOwn: Builder | undefined;

/**
 * Puts the builder in place of Apollo's. Refuses to start if Apollo moved it: an upgrade of
 * Apollo must bring this module up to date (its test says so too), not silently lose it.
 */
export function installGatewayRequestContext(): void {
  const apollo = apolloBuilderModule();
  if (apollo.makeGatewayGraphQLRequestContext === buildGatewayRequestContext) return;
  if (typeof apollo.makeGatewayGraphQLRequestContext !== 'function') {
    throw new Error(
      "Apollo Server's makeGatewayGraphQLRequestContext is not where src/graphql/gateway-request-context.ts expects it",
    );
  }
  apollosOwn = apollo.makeGatewayGraphQLRequestContext as Builder;
  apollo.makeGatewayGraphQLRequestContext = buildGatewayRequestContext;
}

/** The builder Apollo's request pipeline calls now, and Apollo's own (for the test that compares them). */
export function gatewayRequestContextBuilders(): { current: unknown; apollos: Builder } {
  const current = apolloBuilderModule().makeGatewayGraphQLRequestContext;
  return { current, apollos: apollosOwn ?? (current as Builder) };
}
