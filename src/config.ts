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
  /**
   * Milliseconds to wait for a database connection: to open one, or for one of the pool's to be
   * free. Past it the request fails with SERVICE_UNAVAILABLE, and a start fails, instead of
   * waiting on the operating system's TCP timeout (minutes) or on a pool that never frees up.
   */
  databaseConnectTimeoutMs: number;
  /** Connections of the pool that runs TypeORM's statements (writes, transactions, migrations). */
  databasePoolSize: number;
  /** Connections of the lean read path's own pool (src/database/request-database.ts). */
  databaseReadPoolSize: number;
  /** How long a migration run waits for another run's advisory lock (src/database/migration-runner.ts). */
  migrationLockWaitMs: number;
  /** Apply pending migrations older than the newest applied one, on purpose. */
  migrationsAllowOutOfOrder: boolean;
  /** Poolers, direct connections and read replicas (docs/scaling.md). */
  topology: DatabaseTopology;
}

export type PoolerSetting = 'auto' | 'none' | 'pgbouncer';
export type PreparedStatementSetting = 'auto' | 'named' | 'unnamed';

/** How the server reaches PostgreSQL beyond DATABASE_URL. */
export interface DatabaseTopology {
  /** DATABASE_POOLER: auto detects a pooler at start (the backend's pid is not the one announced). */
  pooler: PoolerSetting;
  /** DATABASE_PREPARED_STATEMENTS: auto names the read path's statements only on a direct connection. */
  preparedStatements: PreparedStatementSetting;
  /** MIGRATION_DATABASE_URL: a direct connection for migrations (their session lock); unset: DATABASE_URL. */
  migrationDatabaseUrl: string | undefined;
  /** DATABASE_DIRECT_URL: a direct connection for LISTEN behind a pooler; unset: MIGRATION_DATABASE_URL. */
  directUrl: string | undefined;
  /** DATABASE_REPLICA_URLS: streaming replicas that serve read-only operations. */
  replicaUrls: string[];
  /** A replica this many seconds behind the primary (or down) is skipped until it catches up. */
  replicaMaxLagSeconds: number;
  /** After its own write, a caller reads from the primary for this many seconds. */
  readYourWritesSeconds: number;
}

/** How long a request's statements may run, and a request's transaction may sit idle, in PostgreSQL. */
export interface DatabaseTimeouts {
  /** statement_timeout of every request's statement; a moment later the server stops waiting for an answer. */
  statementMs: number;
  /** idle_in_transaction_session_timeout: a transaction left open this long is ended by PostgreSQL. */
  idleInTransactionMs: number;
}

export interface AppConfig extends StorageConfig {
  host: string;
  port: number;
  logLevel: LogLevel;
  /** Apply pending migrations at start (outside production by default). */
  migrateOnStart: boolean;
  databaseTimeouts: DatabaseTimeouts;
  /** After SIGTERM, how long the server goes on serving while /readyz answers 503, so load balancers can follow. */
  shutdownDelayMs: number;
  /** After the delay, how long in-flight requests and the rest of the shutdown may take. */
  shutdownTimeoutMs: number;
  /** Port of the Prometheus listener (its own, never the public one); undefined: no metrics. */
  metricsPort: number | undefined;
  /** HMAC key for the API's own access tokens. */
  authTokenSecret: Uint8Array;
  /** AES-256-GCM key for secrets at rest (project JWT secrets, service-role keys). */
  encryptionKey: Buffer;
  accessTokenTtlSeconds: number;
  maxPageSize: number;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** On outside production, off in production unless GRAPHQL_INTROSPECTION=true. */
  introspection: boolean;
  /** Queries run compiled by graphql-jit (src/graphql/compiled-executor.ts); off, graphql-js interprets them. */
  compiledQueries: boolean;
  queryLimits: QueryLimits;
  authRateLimit: AuthRateLimit;
  /** Origins allowed to call the API from a browser; empty: no cross-origin access. */
  corsOrigins: string[];
  /** Reverse proxies in front of the server whose X-Forwarded-For entries are trusted. */
  trustProxyHops: number;
  jobs: JobsConfig;
  trustedDocuments: TrustedDocumentsConfig;
  /** Who may sign up: anyone, only with an invitation, or only with a platform invitation. */
  signupMode: SignupMode;
  accounts: AccountsConfig;
}

/** Sessions and the rules of accounts (docs/accounts.md). */
export interface AccountsConfig {
  /** A session not refreshed for this many days ends. */
  sessionIdleDays: number;
  /** A session ends this many days after its log-in, whatever its refreshes. */
  sessionMaxDays: number;
  /** REQUIRE_VERIFIED_EMAIL: an unverified address cannot create an organization nor accept an invitation. */
  requireVerifiedEmail: boolean;
}

/** How mail leaves: SMTP, `.eml` files (outside production, without SMTP_URL), or not at all (MAIL_DISABLED). */
export interface MailConfig {
  /** SMTP_URL, such as smtp://user:pass@mail.internal:587; unset: files under `directory`. */
  smtpUrl: string | undefined;
  from: string;
  /** MAIL_DISABLED=true: mails are marked sent without leaving (an install without mail). */
  disabled: boolean;
  /** DATA_DIR/mail: where `.eml` files go without SMTP_URL. */
  directory: string;
  /** The studio whose pages the links in mails open. */
  studioUrl: string;
  passwordResetTtlMinutes: number;
  /** Attempts at sending one mail (MAIL_MAX_ATTEMPTS), the second MAIL_RETRY_BASE_SECONDS after the first, then doubling. */
  maxAttempts: number;
  retryBaseSeconds: number;
  /** ENCRYPTION_KEY, which seals the outbox's messages: set by loadConfig, or by the worker's runtime. */
  sealingKey?: Buffer;
}

export type SignupMode = 'open' | 'invite' | 'closed';

/** Billing as the operator runs it; read by the server and by the job workers. */
export interface BillingConfig {
  /** BILLING_ENABLED=false: no plan limits, no billing API, no periods closed. */
  enabled: boolean;
  /** An invoice open this many days after its issue suspends its organization. */
  pastDueSuspendDays: number;
  /** Days after issue on which a declined charge is tried again, ascending. */
  paymentRetryDays: number[];
  /** New organizations get the pro plan's limits for this many days without a card (0: no trial). */
  trialDays: number;
}

/** Background work: the job queue's workers, the provisioner they call, deletion's grace period. */
export interface JobsConfig {
  /** Run workers inside the server process (JOBS_WORKERS); off where `npm run worker` runs them apart. */
  workers: boolean;
  /** Jobs one process runs at once. */
  concurrency: number;
  /** Days a deleted organization or project can be undeleted before it is purged. */
  deletionGraceDays: number;
  provisioner: ProvisionerConfig;
  billing: BillingConfig;
  /** Mail, sent by the workers from the outbox. */
  mail: MailConfig;
  /** AUDIT_RETENTION_DAYS: audit events older than this are removed, behind a checkpoint of their chain. */
  auditRetentionDays: number;
  webhooks: WebhookConfig;
  /** ENCRYPTION_KEY, to open the webhook secrets that sign deliveries (set by loadConfig and the worker). */
  encryptionKey?: Buffer;
}

/** Deliveries of audit events to webhooks (docs/webhooks.md). */
export interface WebhookConfig {
  /** Attempts per delivery before it is failed. */
  maxAttempts: number;
  /** Delay before the second attempt; each later one waits twice as long. */
  retryBaseMs: number;
  /** Consecutive failed deliveries after which a webhook is disabled. */
  disableAfterFailures: number;
  /** Plain http:// URLs accepted (otherwise https only). */
  allowHttp: boolean;
  /** Hosts on loopback, private and link-local networks accepted (internal receivers, tests). */
  allowPrivateNetworks: boolean;
  /** How long one delivery attempt may take. */
  timeoutMs: number;
}

export interface ProvisionerConfig {
  /** Set: each lifecycle step is POSTed there. Unset: the built-in provisioner, which succeeds at once. */
  url: string | undefined;
  timeoutMs: number;
  /** Attempts per step before the project is left in the step's failure state. */
  maxAttempts: number;
  /** Delay before the second attempt; each later one waits about twice as long. */
  retryBaseMs: number;
}

/** Documents clients may name by hash, from a manifest written by graphql-codegen (docs/clients.md). */
export interface TrustedDocumentsConfig {
  /** TRUSTED_DOCUMENTS: the manifest's path (hash → document); unset: no document can be named by hash. */
  manifest: string | undefined;
  /** TRUSTED_DOCUMENTS_ONLY: no other document runs. */
  only: boolean;
}

/** Bounds on one GraphQL document, checked before it executes. */
export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  /** graphql-armor's cost of the document as written (objects 2, scalars 1, x1.5 per level). */
  maxCost: number;
  /** Fields the operation can resolve at most, each list counted at its page size (variables included). */
  maxExecutionCost: number;
}

/**
 * Attempts at logIn, signUp and acceptInvitation: a token bucket per account and one per client
 * address, each holding `per…` attempts and refilled at that many per window.
 */
export interface AuthRateLimit {
  perAccount: number;
  perAddress: number;
  windowSeconds: number;
}

/** pino's levels; anything else is refused at start, naming LOG_LEVEL. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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

function parseBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(name, `must be true or false (got "${raw}")`);
  return raw === 'true';
}

/** A comma-separated list of exact origins (scheme, host and port; no path, no wildcard). */
function parseOrigins(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const value = entry.trim();
    let origin: string | undefined;
    try {
      origin = new URL(value).origin;
    } catch {
      origin = undefined;
    }
    const web = value.startsWith('https://') || value.startsWith('http://');
    if (!web || !origin || origin !== value.replace(/\/$/, '')) {
      throw new ConfigError(name, `must list origins such as https://studio.example.com (got "${value}")`);
    }
    return origin;
  });
}

function parseHttpUrl(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, 'must be an http(s) URL');
  return url.toString();
}

/** A comma-separated, ascending list of whole days, each from 1 to 365. */
function parseDays(env: Env, name: string, fallback: number[]): number[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const days = raw.split(',').map((part) => Number(part.trim()));
  const ascending = days.every(
    (day, i) => Number.isInteger(day) && day >= 1 && day <= 365 && (i === 0 || day > days[i - 1]),
  );
  if (!ascending)
    throw new ConfigError(name, `must list whole days from 1 to 365 in ascending order, such as 1,3,7 (got "${raw}")`);
  return days;
}

export function loadBillingConfig(env: Env = process.env): BillingConfig {
  return {
    enabled: parseBoolean(env, 'BILLING_ENABLED', true),
    pastDueSuspendDays: parseInteger(env, 'PAST_DUE_SUSPEND_DAYS', 14, 1, 365),
    paymentRetryDays: parseDays(env, 'PAYMENT_RETRY_DAYS', [1, 3, 7]),
    trialDays: parseInteger(env, 'TRIAL_DAYS', 0, 0, 365),
  };
}

function parseSignupMode(env: Env, nodeEnv: NodeEnv): SignupMode {
  const raw = env.SIGNUP_MODE || (nodeEnv === 'production' ? 'invite' : 'open');
  if (raw !== 'open' && raw !== 'invite' && raw !== 'closed') {
    throw new ConfigError('SIGNUP_MODE', `must be open, invite or closed (got "${raw}")`);
  }
  return raw;
}

/** The job queue's settings: read by the server and by `npm run worker`. */
export function loadJobsConfig(env: Env = process.env): JobsConfig {
  return {
    workers: parseBoolean(env, 'JOBS_WORKERS', true),
    concurrency: parseInteger(env, 'JOBS_CONCURRENCY', 4, 1, 100),
    deletionGraceDays: parseInteger(env, 'DELETION_GRACE_DAYS', 7, 0, 365),
    provisioner: {
      url: parseHttpUrl(env, 'PROVISIONER_URL'),
      timeoutMs: parseInteger(env, 'PROVISIONER_TIMEOUT_MS', 10_000, 100, 600_000),
      maxAttempts: parseInteger(env, 'PROVISIONER_MAX_ATTEMPTS', 8, 1, 50),
      retryBaseMs: parseInteger(env, 'PROVISIONER_RETRY_BASE_MS', 2000, 1000, 3_600_000),
    },
    billing: loadBillingConfig(env),
    auditRetentionDays: parseInteger(env, 'AUDIT_RETENTION_DAYS', 365, 1, 36_500),
    webhooks: loadWebhookConfig(env),
    mail: loadMailConfig(env),
  };
}

function parseSmtpUrl(env: Env): string | undefined {
  const raw = env.SMTP_URL;
  if (!raw) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')) {
    throw new ConfigError('SMTP_URL', 'must be an smtp:// or smtps:// URL, such as smtp://user:pass@mail.internal:587');
  }
  return raw;
}

/**
 * Production sends mail or says it will not: without SMTP_URL, MAIL_DISABLED=true is required of
 * the processes that send it (the server and `npm run worker`), not of the commands that never do.
 */
export function requireMailDelivery(nodeEnv: NodeEnv, mail: MailConfig): void {
  if (nodeEnv === 'production' && !mail.smtpUrl && !mail.disabled) {
    throw new ConfigError(
      'SMTP_URL',
      'is required when NODE_ENV=production (smtp://user:pass@mail.internal:587), for verification, reset and ' +
        'invitation mails; set MAIL_DISABLED=true to run without mail on purpose',
    );
  }
}

export function loadMailConfig(env: Env = process.env): MailConfig {
  return {
    smtpUrl: parseSmtpUrl(env),
    from: env.MAIL_FROM || 'Platform <no-reply@localhost>',
    disabled: parseBoolean(env, 'MAIL_DISABLED', false),
    directory: path.join(path.resolve(env.DATA_DIR || path.join(process.cwd(), '.data')), 'mail'),
    studioUrl: (parseHttpUrl(env, 'STUDIO_URL') ?? 'http://localhost:3000').replace(/\/+$/, ''),
    passwordResetTtlMinutes: parseInteger(env, 'PASSWORD_RESET_TTL_MINUTES', 60, 5, 24 * 60),
    maxAttempts: parseInteger(env, 'MAIL_MAX_ATTEMPTS', 10, 1, 50),
    retryBaseSeconds: parseInteger(env, 'MAIL_RETRY_BASE_SECONDS', 30, 1, 3600),
  };
}

function loadAccountsConfig(env: Env): AccountsConfig {
  const sessionMaxDays = parseInteger(env, 'SESSION_MAX_DAYS', 90, 1, 3650);
  const sessionIdleDays = parseInteger(env, 'SESSION_IDLE_DAYS', 14, 1, 3650);
  if (sessionIdleDays > sessionMaxDays) {
    throw new ConfigError('SESSION_IDLE_DAYS', `must not exceed SESSION_MAX_DAYS (${sessionMaxDays})`);
  }
  return {
    sessionIdleDays,
    sessionMaxDays,
    requireVerifiedEmail: parseBoolean(env, 'REQUIRE_VERIFIED_EMAIL', false),
  };
}

export function loadWebhookConfig(env: Env = process.env): WebhookConfig {
  return {
    maxAttempts: parseInteger(env, 'WEBHOOK_MAX_ATTEMPTS', 10, 1, 50),
    retryBaseMs: parseInteger(env, 'WEBHOOK_RETRY_BASE_MS', 5000, 10, 3_600_000),
    disableAfterFailures: parseInteger(env, 'WEBHOOK_DISABLE_AFTER_FAILURES', 20, 1, 10_000),
    allowHttp: parseBoolean(env, 'WEBHOOK_ALLOW_HTTP', false),
    allowPrivateNetworks: parseBoolean(env, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS', false),
    timeoutMs: 10_000,
  };
}

function parseTrustedDocuments(env: Env): TrustedDocumentsConfig {
  const manifest = env.TRUSTED_DOCUMENTS ? path.resolve(env.TRUSTED_DOCUMENTS) : undefined;
  const only = parseBoolean(env, 'TRUSTED_DOCUMENTS_ONLY', false);
  if (only && !manifest) {
    throw new ConfigError('TRUSTED_DOCUMENTS_ONLY', 'needs TRUSTED_DOCUMENTS, the manifest of the documents to run');
  }
  return { manifest, only };
}

function parseDatabaseUrl(env: Env, name = 'DATABASE_URL', raw = env[name]): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a URL (expected postgres://user:password@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(name, `must use the postgres:// scheme (got "${url.protocol}")`);
  }
  return raw;
}

function parseChoice<T extends string>(env: Env, name: string, choices: readonly T[]): T {
  const raw = env[name] || choices[0];
  if (!choices.includes(raw as T)) throw new ConfigError(name, `must be ${choices.join(', ')} (got "${raw}")`);
  return raw as T;
}

export function loadDatabaseTopology(env: Env = process.env): DatabaseTopology {
  const migrationDatabaseUrl = parseDatabaseUrl(env, 'MIGRATION_DATABASE_URL');
  const replicas = (env.DATABASE_REPLICA_URLS ?? '').split(',').filter((entry) => entry.trim() !== '');
  return {
    pooler: parseChoice(env, 'DATABASE_POOLER', ['auto', 'none', 'pgbouncer'] as const),
    preparedStatements: parseChoice(env, 'DATABASE_PREPARED_STATEMENTS', ['auto', 'named', 'unnamed'] as const),
    migrationDatabaseUrl,
    directUrl: parseDatabaseUrl(env, 'DATABASE_DIRECT_URL') ?? migrationDatabaseUrl,
    replicaUrls: replicas.map((entry) => parseDatabaseUrl(env, 'DATABASE_REPLICA_URLS', entry.trim()) as string),
    replicaMaxLagSeconds: parseInteger(env, 'REPLICA_MAX_LAG_SECONDS', 10, 1, 3600),
    readYourWritesSeconds: parseInteger(env, 'READ_YOUR_WRITES_SECONDS', 5, 0, 3600),
  };
}

/**
 * Production needs a real database: without DATABASE_URL every replica would start a private
 * embedded PostgreSQL of its own, with its own data. EMBEDDED_POSTGRES=true asks for that on purpose.
 */
function checkDatabaseChoice(env: Env, nodeEnv: NodeEnv, databaseUrl: string | undefined): void {
  const embedded = env.EMBEDDED_POSTGRES ? parseBoolean(env, 'EMBEDDED_POSTGRES', false) : undefined;
  if (databaseUrl !== undefined) {
    if (embedded) throw new ConfigError('EMBEDDED_POSTGRES', 'must not be true when DATABASE_URL is set');
    return;
  }
  if (embedded === false) throw new ConfigError('DATABASE_URL', 'is required when EMBEDDED_POSTGRES=false');
  if (nodeEnv === 'production' && !embedded) {
    throw new ConfigError(
      'DATABASE_URL',
      'is required when NODE_ENV=production (postgres://user:password@host:port/database); ' +
        'set EMBEDDED_POSTGRES=true only to run a private embedded PostgreSQL on purpose',
    );
  }
}

export function loadStorageConfig(env: Env = process.env): StorageConfig {
  const nodeEnv = parseNodeEnv(env);
  const databaseUrl = parseDatabaseUrl(env);
  checkDatabaseChoice(env, nodeEnv, databaseUrl);
  return {
    nodeEnv,
    databaseUrl,
    dataDir: path.resolve(env.DATA_DIR || path.join(process.cwd(), '.data')),
    embeddedPostgresPort: parseInteger(env, 'EMBEDDED_POSTGRES_PORT', 54329, 1024, 65535),
    migrationLockTimeoutMs: parseInteger(env, 'MIGRATION_LOCK_TIMEOUT_MS', 5000, 100, 600_000),
    databaseConnectTimeoutMs: parseInteger(env, 'DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
    databasePoolSize: parseInteger(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    databaseReadPoolSize: parseInteger(env, 'DATABASE_READ_POOL_SIZE', 10, 1, 1000),
    migrationLockWaitMs: parseInteger(env, 'MIGRATION_LOCK_WAIT_MS', 60_000, 100, 3_600_000),
    migrationsAllowOutOfOrder: parseBoolean(env, 'MIGRATIONS_ALLOW_OUT_OF_ORDER', false),
    topology: loadDatabaseTopology(env),
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

function parseLogLevel(env: Env, nodeEnv: NodeEnv): LogLevel {
  const raw = env.LOG_LEVEL || (nodeEnv === 'test' ? 'silent' : 'info');
  const level = LOG_LEVELS.find((known) => known === raw);
  if (!level) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')} (got "${raw}")`);
  return level;
}

/** Unset: no metrics listener. Set: a port of its own, never the public one. */
function parseMetricsPort(env: Env, publicPort: number): number | undefined {
  if (env.METRICS_PORT === undefined || env.METRICS_PORT === '') return undefined;
  const port = parseInteger(env, 'METRICS_PORT', 0, 0, 65535);
  if (port !== 0 && port === publicPort) {
    throw new ConfigError('METRICS_PORT', `must differ from PORT (${publicPort}): metrics are never served publicly`);
  }
  return port;
}

function secretKeys(env: Env, storage: StorageConfig): Pick<AppConfig, 'authTokenSecret' | 'encryptionKey'> {
  let authRaw = env.AUTH_TOKEN_SECRET;
  let encryptionRaw = env.ENCRYPTION_KEY;
  if (storage.nodeEnv === 'production') {
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
    authTokenSecret: decodeKey('AUTH_TOKEN_SECRET', authRaw),
    encryptionKey: decodeKey('ENCRYPTION_KEY', encryptionRaw, 32),
  };
}

/** Listening, logging, start and stop, metrics: how the process runs, as opposed to what the API does. */
function processSettings(env: Env, nodeEnv: NodeEnv) {
  const production = nodeEnv === 'production';
  const port = parseInteger(env, 'PORT', 4000, 0, 65535);
  return {
    host: env.HOST || (production ? '0.0.0.0' : '127.0.0.1'),
    port,
    logLevel: parseLogLevel(env, nodeEnv),
    migrateOnStart: parseBoolean(env, 'MIGRATE_ON_START', !production),
    databaseTimeouts: {
      statementMs: parseInteger(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 15_000, 100, 3_600_000),
      idleInTransactionMs: parseInteger(env, 'DATABASE_IDLE_IN_TX_TIMEOUT_MS', 15_000, 100, 3_600_000),
    },
    shutdownDelayMs: parseInteger(env, 'SHUTDOWN_DELAY_MS', production ? 5000 : 0, 0, 300_000),
    shutdownTimeoutMs: parseInteger(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 300_000),
    metricsPort: parseMetricsPort(env, port),
  };
}

/** Both job kinds that open sealed data (the outbox's mails, webhook secrets) get ENCRYPTION_KEY. */
export function withEncryptionKey(jobs: JobsConfig, encryptionKey: Buffer): JobsConfig {
  return { ...jobs, encryptionKey, mail: { ...jobs.mail, sealingKey: encryptionKey } };
}

/** ENCRYPTION_KEY (generated outside production), for a process that needs only it: the worker. */
export function loadEncryptionKey(env: Env = process.env): Buffer {
  const storage = loadStorageConfig(env);
  const production = storage.nodeEnv === 'production';
  const raw = env.ENCRYPTION_KEY || (production ? undefined : developmentSecrets(storage.dataDir).encryptionKey);
  if (!raw) throw new ConfigError('ENCRYPTION_KEY', 'is required when NODE_ENV=production (32 random bytes, base64)');
  return decodeKey('ENCRYPTION_KEY', raw, 32);
}

export function loadConfig(env: Env = process.env): AppConfig {
  const storage = loadStorageConfig(env);
  const production = storage.nodeEnv === 'production';
  const secrets = secretKeys(env, storage);
  return {
    ...storage,
    ...processSettings(env, storage.nodeEnv),
    ...secrets,
    accessTokenTtlSeconds: parseInteger(env, 'ACCESS_TOKEN_TTL_SECONDS', 900, 60, 30 * 24 * 3600),
    maxPageSize: parseInteger(env, 'MAX_PAGE_SIZE', 100, 1, 1000),
    maxBodyBytes: parseInteger(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    introspection: parseBoolean(env, 'GRAPHQL_INTROSPECTION', !production),
    compiledQueries: parseBoolean(env, 'GRAPHQL_COMPILED_QUERIES', true),
    queryLimits: {
      maxDepth: parseInteger(env, 'GRAPHQL_MAX_DEPTH', 8, 1, 100),
      maxAliases: parseInteger(env, 'GRAPHQL_MAX_ALIASES', 15, 0, 1000),
      maxTokens: parseInteger(env, 'GRAPHQL_MAX_TOKENS', 1000, 10, 100_000),
      maxDirectives: parseInteger(env, 'GRAPHQL_MAX_DIRECTIVES', 10, 0, 1000),
      maxCost: parseInteger(env, 'GRAPHQL_MAX_COST', 5000, 1, 10_000_000),
      maxExecutionCost: parseInteger(env, 'GRAPHQL_MAX_EXECUTION_COST', 50_000, 1, 10_000_000),
    },
    authRateLimit: {
      perAccount: parseInteger(env, 'AUTH_RATE_LIMIT_PER_ACCOUNT', 10, 1, 1_000_000),
      perAddress: parseInteger(env, 'AUTH_RATE_LIMIT_PER_ADDRESS', 50, 1, 1_000_000),
      windowSeconds: parseInteger(env, 'AUTH_RATE_LIMIT_WINDOW_SECONDS', 900, 1, 86_400),
    },
    corsOrigins: parseOrigins(env, 'CORS_ORIGINS'),
    trustProxyHops: parseInteger(env, 'TRUST_PROXY_HOPS', 0, 0, 10),
    jobs: withEncryptionKey(loadJobsConfig(env), secrets.encryptionKey),
    trustedDocuments: parseTrustedDocuments(env),
    signupMode: parseSignupMode(env, storage.nodeEnv),
    accounts: loadAccountsConfig(env),
  };
}
