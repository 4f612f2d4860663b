import { randomUUID } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { ArgumentValidationError } from 'type-graphql';
import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';

/** The closed set of codes a client can see; anything else is INTERNAL_SERVER_ERROR. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'PLAN_LIMIT_REACHED'
  | 'ORGANIZATION_SUSPENDED'
  | 'PAYMENT_DECLINED'
  | 'BILLING_DISABLED'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'PERSISTED_QUERY_NOT_ALLOWED';

export abstract class AppError extends GraphQLError {
  abstract readonly code: ErrorCode;

  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class UnauthenticatedError extends AppError {
  readonly code = 'UNAUTHENTICATED';
  constructor(message = 'Sign in first: send a valid access token as "Authorization: Bearer <token>"') {
    super(message);
  }
}

/** The caller can see the resource but may not do this to it. */
export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
  constructor(message = 'You do not have permission to do this') {
    super(message);
  }
}

/** How much of a value sent by the client an error message quotes: a message stays short whatever was sent. */
const QUOTED_INPUT_LENGTH = 64;

/** A value sent by the client, quoted for an error message: its first characters only, then "…". */
export function quoteInput(value: string): string {
  if (value.length <= QUOTED_INPUT_LENGTH) return `"${value}"`;
  let prefix = value.slice(0, QUOTED_INPUT_LENGTH);
  // Half of a surrogate pair would make the message invalid UTF-16.
  if (/[\uD800-\uDBFF]$/.test(prefix)) prefix = prefix.slice(0, -1);
  return `"${prefix}…"`;
}

/** Absent, or not visible to the caller: the two are one answer on purpose. */
export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  constructor(kind: string, key?: string) {
    super(key ? `${kind} ${quoteInput(key)} was not found` : `${kind} was not found`);
  }
}

export interface FieldProblem {
  field: string;
  messages: string[];
}

export class BadUserInputError extends AppError {
  readonly code = 'BAD_USER_INPUT';
  constructor(message: string, fields: FieldProblem[] = []) {
    super(message, { fields });
  }

  static field(field: string, message: string): BadUserInputError {
    return new BadUserInputError(message, [{ field, messages: [message] }]);
  }
}

export class ConflictError extends AppError {
  readonly code = 'CONFLICT';
  constructor(message: string, field?: string) {
    super(message, field ? { field } : {});
  }
}

export class PlanLimitReachedError extends AppError {
  readonly code = 'PLAN_LIMIT_REACHED';
}

/** The organization is suspended: it can be read, and it can settle what it owes, but nothing else changes. */
export class OrganizationSuspendedError extends AppError {
  readonly code = 'ORGANIZATION_SUSPENDED';
  constructor(reason: string) {
    super(
      reason === 'past_due'
        ? 'This organization is suspended for an unpaid invoice: pay it (payInvoice) to lift the suspension'
        : 'This organization is suspended by the operator of this platform: contact them',
      { reason },
    );
  }
}

/** The payment provider declined the charge; nothing was paid and the invoice stays open. */
export class PaymentDeclinedError extends AppError {
  readonly code = 'PAYMENT_DECLINED';
  constructor(reason: string) {
    super(`The payment was declined: ${reason}`, { reason });
  }
}

/** BILLING_ENABLED=false: this installation bills nobody. */
export class BillingDisabledError extends AppError {
  readonly code = 'BILLING_DISABLED';
  constructor() {
    super('Billing is turned off on this installation (BILLING_ENABLED=false)');
  }
}

/** Too many attempts from this account or address; the attempt was not evaluated. */
export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED';
  constructor(retryAfterSeconds: number) {
    super(`Too many attempts: try again in ${retryAfterSeconds} seconds`, { retryAfterSeconds });
  }
}

export class ServiceUnavailableError extends AppError {
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor() {
    super('The service is temporarily unavailable; try again shortly');
  }
}

/** TRUSTED_DOCUMENTS_ONLY: this server runs the trusted documents only, and the one sent is not one of them. */
export class PersistedQueryNotAllowedError extends AppError {
  readonly code = 'PERSISTED_QUERY_NOT_ALLOWED';
  constructor() {
    super('Only trusted documents run here: name one by its hash (extensions.persistedQuery.sha256Hash or documentId)');
  }
}

/** Codes that Apollo and graphql-js raise themselves for malformed requests. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/**
 * The database is away, refusing connections, or too slow: 57014 is a statement cancelled past
 * DATABASE_STATEMENT_TIMEOUT_MS, 25P03 a session ended for sitting idle in a transaction.
 */
const UNAVAILABLE_CAUSES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  '57P01',
  '57P03',
  '53300',
  '57014',
  '25P03',
]);

/** pg's own words for a connection that is gone, a connection it could not get, and an answer it stopped waiting for. */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client was closed and is not queryable',
];

function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  return (
    (typeof code === 'string' && UNAVAILABLE_CAUSES.has(code)) ||
    // TypeORM releases a transaction's runner when its connection dies; the next statement finds it
    // so, through the runner or through its EntityManager's query (the provider's error).
    error instanceof QueryRunnerAlreadyReleasedError ||
    error instanceof QueryRunnerProviderAlreadyReleasedError ||
    UNAVAILABLE_MESSAGES.some((words) => message.includes(words))
  );
}

function validationProblems(error: ArgumentValidationError): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const walk = (errors: ArgumentValidationError['extensions']['validationErrors'], prefix: string) => {
    for (const item of errors) {
      const field = prefix ? `${prefix}.${item.property}` : item.property;
      if (item.constraints) problems.push({ field, messages: Object.values(item.constraints) });
      if (item.children?.length) walk(item.children, field);
    }
  };
  walk(error.extensions.validationErrors, '');
  return problems;
}

/** graphql-js's "Did you mean …?" hints name fields, arguments, types and enum values of the schema. */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/** In production, request errors that would show a configured limit or the server's make say less. */
const PRODUCTION_REWRITES: [RegExp, string][] = [
  [/^Syntax Error: Document contains more tha[nt] \d+ tokens\..*$/s, 'Syntax Error: The document has too many tokens.'],
  [/^GraphQL introspection is not allowed.*$/s, 'GraphQL introspection is disabled.'],
];

/** A quoted run longer than quoteInput keeps: graphql-js quotes the names and values it was sent. */
const LONG_QUOTED = new RegExp(`"([^"]{${QUOTED_INPUT_LENGTH + 1},})"`, 'g');

/** No message is longer than this, whatever it quotes (graphql-js also prints lists and objects it was sent). */
const MESSAGE_LENGTH = 1000;

function bounded(message: string): string {
  return message.length <= MESSAGE_LENGTH ? message : `${message.slice(0, MESSAGE_LENGTH)}…`;
}

function requestErrorMessage(message: string, production: boolean): string {
  // Quotes are cut first, so that the hint pattern never scans an unbounded value.
  const shortQuotes = message.replace(LONG_QUOTED, (_, value: string) => quoteInput(value));
  const withoutHints = bounded(shortQuotes.replace(SUGGESTION, ''));
  if (!production) return withoutHints;
  const rewrite = PRODUCTION_REWRITES.find(([pattern]) => pattern.test(withoutHints));
  return rewrite ? rewrite[1] : withoutHints;
}

export interface ErrorFormatterOptions {
  production: boolean;
}

/** What the server, not the client, must look into: logged, and answered without internals. */
type ServerFault = 'unavailable' | 'internal';

function serverFault(thrown: unknown): ServerFault | null {
  const error = unwrapResolverError(thrown);
  if (error instanceof AppError) return null;
  if (error instanceof ArgumentValidationError && Array.isArray(error.extensions.validationErrors)) return null;
  const code = thrown instanceof GraphQLError ? thrown.extensions?.code : undefined;
  if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code)) return null;
  return isDatabaseUnavailable(error) ? 'unavailable' : 'internal';
}

/** The error ids given to server faults already logged by the request that met them. */
const loggedFaults = new WeakMap<object, string>();

/**
 * Logs a request's server faults on the request's own logger (so the lines carry its request
 * id), before the formatter answers them; the formatter reuses the error id given here.
 */
export function logServerFault(log: Logger, thrown: GraphQLError): void {
  const fault = serverFault(thrown);
  if (!fault || loggedFaults.has(thrown)) return;
  const error = unwrapResolverError(thrown);
  if (fault === 'unavailable') {
    log.warn({ err: error }, 'database unavailable');
    loggedFaults.set(thrown, '');
    return;
  }
  const errorId = randomUUID();
  loggedFaults.set(thrown, errorId);
  log.error({ err: error, errorId, path: thrown.path }, 'unexpected error');
}

/**
 * The one mapping from thrown errors to what clients see. Typed errors keep their message
 * and code; request errors from graphql-js keep theirs, without schema hints; everything else
 * is logged with an error id and answered as INTERNAL_SERVER_ERROR with nothing of its internals.
 */
export function createErrorFormatter(logger: Logger, options: ErrorFormatterOptions) {
  const format = (formatted: GraphQLFormattedError, thrown: unknown): GraphQLFormattedError => {
    const error = unwrapResolverError(thrown);
    const base = { locations: formatted.locations, path: formatted.path };
    const fault = serverFault(thrown);
    if (fault === 'unavailable') {
      if (!loggedFaults.has(thrown as object)) logger.warn({ err: error }, 'database unavailable');
      const unavailable = new ServiceUnavailableError();
      return { ...base, message: unavailable.message, extensions: { code: unavailable.code } };
    }
    if (fault === 'internal') return internal(error, formatted.path, loggedFaults.get(thrown as object));
    if (error instanceof AppError) {
      return { ...base, message: bounded(error.message), extensions: { code: error.code, ...error.details } };
    }
    // type-graphql also wraps a validator that threw; only a list of violations is the client's fault.
    if (error instanceof ArgumentValidationError) {
      const fields = validationProblems(error);
      const summary = fields.map((f) => `${f.field}: ${f.messages.join(', ')}`).join('; ');
      return { ...base, message: bounded(`Invalid input: ${summary}`), extensions: { code: 'BAD_USER_INPUT', fields } };
    }
    const code = formatted.extensions?.code as string;
    return { ...base, message: requestErrorMessage(formatted.message, options.production), extensions: { code } };
  };

  /** A fault no request logged (it failed outside one) is logged here, with a new error id. */
  const internal = (error: unknown, path: GraphQLFormattedError['path'], loggedId?: string): GraphQLFormattedError => {
    let errorId = loggedId;
    if (!errorId) {
      errorId = randomUUID();
      logger.error({ err: error, errorId, path }, 'unexpected error');
    }
    return { path, message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', errorId } };
  };

  // Apollo would answer a formatter that throws with an internal error and log nothing.
  return (formatted: GraphQLFormattedError, thrown: unknown): GraphQLFormattedError => {
    try {
      return format(formatted, thrown);
    } catch (formattingError) {
      return internal(new Error('The error formatter failed', { cause: formattingError }), formatted.path);
    }
  };
}

/** Server faults met while executing are logged on the request's logger, with its request id. */
export function serverFaultLogPlugin(): ApolloServerPlugin<{ scope: { log: Logger } }> {
  return {
    requestDidStart: () =>
      Promise.resolve({
        didEncounterErrors: ({ contextValue, errors }) => {
          for (const error of errors) logServerFault(contextValue.scope.log, error);
          return Promise.resolve();
        },
      }),
  };
}

/**
 * An error met while a request's caller was looked up (before execution, where formatError's
 * unwrapping does not reach): SERVICE_UNAVAILABLE when the database is away, else itself.
 */
export function callerLookupFailure(error: unknown): unknown {
  return isDatabaseUnavailable(error) ? new ServiceUnavailableError() : error;
}
