import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * What no logged error carries, at any depth: a failed statement's parameters (e-mails, token
 * hashes) and PostgreSQL's detail, which quotes the values of the offending row or key.
 */
const UNLOGGED_ERROR_KEYS = ['parameters', 'detail'];

/** pino's error serializer, without the values a failed statement was sent. */
function errorWithoutValues(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown;
  // What is not error-like comes back as it was: the application's object, not a copy to change.
  if (serialized === error || serialized === null || typeof serialized !== 'object') return serialized;
  dropValues(serialized, Object.getPrototypeOf(serialized));
  return serialized;
}

/**
 * Drops the keys from a serialized error and the errors nested in it (TypeORM's driverError,
 * aggregated errors). Only objects the serializer made (they share its prototype) are changed:
 * anything else is the application's own object, kept as it is.
 */
function dropValues(serialized: object, madeBySerializer: unknown): void {
  const record = serialized as Record<string, unknown>;
  for (const key of UNLOGGED_ERROR_KEYS) delete record[key];
  for (const value of Object.values(record)) {
    const nested = Array.isArray(value) ? (value as unknown[]) : [value];
    for (const item of nested) {
      if (item !== null && typeof item === 'object' && Object.getPrototypeOf(item) === madeBySerializer) {
        dropValues(item, madeBySerializer);
      }
    }
  }
}

/**
 * Structured JSON logs. Lines written while serving a request come from that request's child
 * logger (`RequestScope.log`, `RequestContext.log`), so they carry its request id. Credentials,
 * tokens and passwords are redacted wherever they appear, and errors are logged without the
 * values their statements were sent.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'platform-api' },
      serializers: { err: errorWithoutValues },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          '*.password',
          '*.token',
          '*.accessToken',
          '*.jwtSecret',
          '*.serviceRoleKey',
          '*.secret',
          'variables.*',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
