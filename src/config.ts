import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type NodeEnv = 'development' | 'test' | 'production';

/** Where the process keeps its database (when embedded) and its generated development secrets. */
export interface StorageConfig {
  nodeEnv: NodeEnv;
  /** Set: use this PostgreSQL server and start nothing. Unset: run the embedded server. */
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPostgresPort: number;
  /** Milliseconds a statement may wait for a lock while migrations run (see ormconfig.ts). */
  migrationLockTimeoutMs: number;
}

export interface AppConfig extends StorageConfig {
  host: string;
  port: number;
  logLevel: string;
  shutdownTimeoutMs: number;
  /** HMAC key for the API's own access tokens. */
  authTokenSecret: Uint8Array;
  /** AES-256-GCM key for secrets at rest (project JWT secrets, service-role keys). */
  encryptionKey: Buffer;
  accessTokenTtlSeconds: number;
  maxPageSize: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid configuration: ${variable} ${message}`);
  }
}

type Env = Record<string, string | undefined>;

function parseNodeEnv(env: Env): NodeEnv {
  const value = env.NODE_ENV ?? 'development';
  if (value !== 'development' && value !== 'test' && value !== 'production') {
    throw new ConfigError('NODE_ENV', `must be development, test or production (got "${value}")`);
  }
  return value;
}

function parseInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

function parseDatabaseUrl(env: Env): string | undefined {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a URL (expected postgres://user:password@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must use the postgres:// scheme (got "${url.protocol}")`);
  }
  return raw;
}

export function loadStorageConfig(env: Env = process.env): StorageConfig {
  return {
    nodeEnv: parseNodeEnv(env),
    databaseUrl: parseDatabaseUrl(env),
    dataDir: path.resolve(env.DATA_DIR || path.join(process.cwd(), '.data')),
    embeddedPostgresPort: parseInteger(env, 'EMBEDDED_POSTGRES_PORT', 54329, 1024, 65535),
    migrationLockTimeoutMs: parseInteger(env, 'MIGRATION_LOCK_TIMEOUT_MS', 5000, 100, 600_000),
  };
}

interface GeneratedSecrets {
  authTokenSecret: string;
  encryptionKey: string;
}

/**
 * Development needs zero configuration: missing secrets are generated once and kept
 * (mode 0600) under the data directory, so tokens and encrypted columns survive restarts.
 */
function developmentSecrets(dataDir: string): GeneratedSecrets {
  const file = path.join(dataDir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as GeneratedSecrets;
  mkdirSync(dataDir, { recursive: true });
  const secrets: GeneratedSecrets = {
    authTokenSecret: randomBytes(32).toString('base64'),
    encryptionKey: randomBytes(32).toString('base64'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secrets;
}

function decodeKey(name: string, raw: string, exactBytes?: number): Buffer {
  const bytes = Buffer.from(raw, 'base64');
  if (exactBytes !== undefined && bytes.length !== exactBytes) {
    throw new ConfigError(name, `must be ${exactBytes} bytes encoded in base64 (got ${bytes.length} bytes)`);
  }
  if (bytes.length < 32) {
    throw new ConfigError(name, `must be at least 32 bytes encoded in base64 (got ${bytes.length} bytes)`);
  }
  return bytes;
}

export function loadConfig(env: Env = process.env): AppConfig {
  const storage = loadStorageConfig(env);
  const production = storage.nodeEnv === 'production';
  let authRaw = env.AUTH_TOKEN_SECRET;
  let encryptionRaw = env.ENCRYPTION_KEY;
  if (production) {
    if (!authRaw)
      throw new ConfigError('AUTH_TOKEN_SECRET', 'is required when NODE_ENV=production (32+ random bytes, base64)');
    if (!encryptionRaw)
      throw new ConfigError('ENCRYPTION_KEY', 'is required when NODE_ENV=production (32 random bytes, base64)');
  } else if (!authRaw || !encryptionRaw) {
    const generated = developmentSecrets(storage.dataDir);
    authRaw ||= generated.authTokenSecret;
    encryptionRaw ||= generated.encryptionKey;
  }
  return {
    ...storage,
    host: env.HOST || (production ? '0.0.0.0' : '127.0.0.1'),
    port: parseInteger(env, 'PORT', 4000, 0, 65535),
    logLevel: env.LOG_LEVEL || (storage.nodeEnv === 'test' ? 'silent' : 'info'),
    shutdownTimeoutMs: parseInteger(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 300_000),
    authTokenSecret: decodeKey('AUTH_TOKEN_SECRET', authRaw),
    encryptionKey: decodeKey('ENCRYPTION_KEY', encryptionRaw, 32),
    accessTokenTtlSeconds: parseInteger(env, 'ACCESS_TOKEN_TTL_SECONDS', 3600, 60, 30 * 24 * 3600),
    maxPageSize: parseInteger(env, 'MAX_PAGE_SIZE', 100, 1, 1000),
  };
}
