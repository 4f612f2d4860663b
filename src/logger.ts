import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Logger } from 'pino';

export interface RequestScope {
  requestId: string;
}

/** The request being served: it follows the request through every await, into every log line. */
export const requestScope = new AsyncLocalStorage<RequestScope>();

/**
 * Structured JSON logs. Every line written while serving a request carries its request id,
 * whichever logger wrote it. Credentials, tokens and passwords are redacted wherever they appear.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'platform-api' },
      mixin: () => {
        const scope = requestScope.getStore();
        return scope ? { requestId: scope.requestId } : {};
      },
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
