import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Structured JSON logs. Lines written while serving a request come from that request's child
 * logger (`RequestScope.log`, `RequestContext.log`), so they carry its request id. Credentials,
 * tokens and passwords are redacted wherever they appear.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'platform-api' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          '*.password',
          '*.token',
          '*.accessToken',
          '*.jwtSecret',
          '*.serviceRoleKey',
          'variables.*',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
