import pino, { type Logger } from 'pino';

/** Structured JSON logs. Credentials, tokens and passwords are redacted wherever they appear. */
export function createLogger(level: string): Logger {
  return pino({
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
  });
}
