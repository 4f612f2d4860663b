import 'reflect-metadata';
import path from 'node:path';
import { Pool } from 'pg';
import { DataSource, type Logger, type Migration, type MigrationInterface } from 'typeorm';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { loadStorageConfig, type DatabaseTimeouts, type StorageConfig } from './src/config';
import { ensureDatabase } from './src/database/ensure-database';
import { startEmbeddedPostgres, type RunningPostgres } from './src/database/embedded-postgres';
import { PlatformNamingStrategy } from './src/database/naming-strategy';
import { requestTimeoutOptions } from './src/database/request-timeouts';
import { connectionMode, type ConnectionMode } from './src/database/pooler';
import { forceMigration, repairHistory, stampMigrations } from './src/database/migration-history';
import { codeMigrations } from './src/database/migration-ledger';
import {
  bootstrapHistory,
  instrumentMigrations,
  migrationStatus,
  verifyHistory,
  withMigrationLock,
  type MigrationSettings,
  type MigrationStatus,
} from './src/database/migration-runner';
import { entities } from './src/entities';

export const SCHEMA = 'platform';
export const EMBEDDED_DATABASE = 'platform';

export interface PlatformDataSourceOptions {
  storage: StorageConfig;
  logger?: Logger;
  /** Instead of DATABASE_POOL_SIZE (a batch job needs a few). */
  poolSize?: number;
  /** The server's: bounds on every statement of its pools. Migrations and the CLI run without them. */
  requestTimeouts?: DatabaseTimeouts;
  applicationName?: string;
  /** Migration classes to use instead of src/migrations (tests of the deploy path). */
  migrations?: (new () => MigrationInterface)[];
  /**
   * Migrations and the CLI: connects to MIGRATION_DATABASE_URL when set (a direct connection, for
   * the session's advisory lock).
   */
  forMigrations?: boolean;
  /**
   * false for the server: its statements name the schema, and its pools keep PostgreSQL's default
   * search_path, as they get behind a pooler. Migration classes and tests rely on it being pinned.
   */
  searchPath?: boolean;
}

type MigrationOptions = Parameters<DataSource['runMigrations']>[0];

/**
 * The one DataSource of the CLI and the app. On top of TypeORM's it
 * - starts (or joins) the embedded PostgreSQL when DATABASE_URL is unset, and stops it on destroy;
 * - creates the `platform` schema before anything else touches it; the server's statements name
 *   it (`platform.projects`) and send no startup options, so that they run through PgBouncer in
 *   transaction mode (src/database/pooler.ts tells whether one is in the way);
 * - makes `migration:run` and `migration:revert` safe for deploys (src/database/migration-runner.ts):
 *   one run at a time under an advisory lock, history checked against a checksum ledger before
 *   anything is applied, out-of-order migrations refused, lock_timeout on every migration.
 */
export class PlatformDataSource extends DataSource {
  private embedded: RunningPostgres | undefined;

  /**
   * The lean read path's own connections (src/database/request-database.ts): the same server
   * and settings, plus generic plans, so that its prepared statements are planned once per
   * connection and never again per execution. They are key lookups whose best plan does not
   * depend on the values; TypeORM's statements keep PostgreSQL's default planning on the main
   * pool. No connection is opened before the first read.
   */
  leanReadPool: Pool | undefined;

  /** Whether a pooler is in the way, and so whether the read path names its statements; known once initialized. */
  connectionMode: ConnectionMode = { pooled: false, namedStatements: true };

  constructor(private readonly platform: PlatformDataSourceOptions) {
    const options: PostgresDataSourceOptions = {
      type: 'postgres',
      url: (platform.forMigrations && platform.storage.topology.migrationDatabaseUrl) || platform.storage.databaseUrl,
      schema: SCHEMA,
      entities,
      migrations: platform.migrations ?? [path.join(__dirname, 'src', 'migrations', '*.{ts,js}')],
      migrationsTableName: 'migrations',
      migrationsTransactionMode: 'each',
      namingStrategy: new PlatformNamingStrategy(),
      synchronize: false,
      migrationsRun: false,
      installExtensions: false,
      uuidExtension: 'pgcrypto',
      applicationName: platform.applicationName ?? 'platform-api',
      poolSize: platform.poolSize ?? platform.storage.databasePoolSize,
      // pg's connectionTimeoutMillis, which the lean read pool inherits: the wait to open a
      // connection, and the wait for a free one when the pool is full.
      connectTimeoutMS: platform.storage.databaseConnectTimeoutMs,
      logger: platform.logger,
      logging: platform.logger ? 'all' : false,
    };
    super(options);
  }

  /** Startup options and per-connection SETs only on a direct connection: a pooler refuses the former and loses the latter. */
  private async chooseConnectionMode(): Promise<void> {
    const { storage, requestTimeouts } = this.platform;
    const url = (this.options as PostgresDataSourceOptions).url;
    this.connectionMode = await connectionMode(url, storage.topology, storage.databaseConnectTimeoutMs);
    const { pooled } = this.connectionMode;
    this.setOptions({
      extra: {
        ...(this.platform.searchPath !== false && !pooled ? { options: `-c search_path=${SCHEMA}` } : {}),
        ...(requestTimeouts ? requestTimeoutOptions(requestTimeouts, pooled) : {}),
      },
    });
  }

  override async initialize(): Promise<this> {
    if (!(this.options as PostgresDataSourceOptions).url) {
      const { storage } = this.platform;
      this.embedded = await startEmbeddedPostgres({
        dir: path.join(storage.dataDir, 'postgres'),
        port: storage.embeddedPostgresPort,
      });
      await ensureDatabase(this.embedded.adminUrl, EMBEDDED_DATABASE);
      this.setOptions({ url: this.embedded.urlFor(EMBEDDED_DATABASE) });
    }
    try {
      await this.chooseConnectionMode();
      await super.initialize();
      await this.ensureSchema();
      const main = (this.driver as PostgresDriver).master as Pool;
      this.leanReadPool = new Pool({
        ...main.options,
        max: this.platform.storage.databaseReadPoolSize,
        options: this.connectionMode.pooled ? undefined : '-c plan_cache_mode=force_generic_plan',
      });
      // Every connection reports its own loss, idle or taken out. The pool listens only to idle
      // ones, but one taken out can still be ended by PostgreSQL between two of its statements (a
      // fast shutdown, a pooler), or in the instant its answer has arrived and it is not yet back:
      // unheard, that error would end the process. Heard, the connection is marked broken, and the
      // pool drops it when it comes back (an idle one, at once).
      this.leanReadPool.on('connect', (client) =>
        client.on('error', (error) => {
          this.logger.log('warn', `lean read connection lost: ${error.message}`);
        }),
      );
      // The pool passes on an idle connection's error, which that connection has reported already;
      // unheard, the event would end the process.
      this.leanReadPool.on('error', () => undefined);
    } catch (error) {
      await this.stopEmbedded();
      throw error;
    }
    return this;
  }

  override async destroy(): Promise<void> {
    try {
      await this.leanReadPool?.end();
      this.leanReadPool = undefined;
      if (this.isInitialized) await super.destroy();
    } finally {
      await this.stopEmbedded();
    }
  }

  override async runMigrations(options?: MigrationOptions): Promise<Migration[]> {
    return this.underMigrationLock(() => super.runMigrations(options));
  }

  override async undoLastMigration(options?: MigrationOptions): Promise<void> {
    return this.underMigrationLock(() => this.revertLast(options));
  }

  /**
   * TypeORM reverts every migration inside a transaction, which a non-transactional one
   * (`transaction = false`, e.g. DROP INDEX CONCURRENTLY) cannot run in: those revert without one.
   */
  private async revertLast(options?: MigrationOptions): Promise<void> {
    const { applied } = await migrationStatus(this, true);
    const last = this.migrations.find((m) => (m.name ?? m.constructor.name) === applied.at(-1));
    const transactional = (last as { transaction?: boolean } | undefined)?.transaction !== false;
    await super.undoLastMigration(transactional ? options : { ...options, transaction: 'none' });
  }

  /** Reverts the last `steps` migrations, or every migration after `to`, under one lock. */
  async revertMigrations(target: { steps: number } | { to: string }, options?: MigrationOptions): Promise<string[]> {
    return this.underMigrationLock(async () => {
      const reverted: string[] = [];
      for (;;) {
        const { applied } = await migrationStatus(this, true);
        const last = applied.at(-1);
        if (!last) break;
        if ('steps' in target ? reverted.length >= target.steps : last === target.to) break;
        if ('to' in target && !applied.includes(target.to)) {
          throw new Error(`${target.to} is not an applied migration`);
        }
        await this.revertLast(options);
        reverted.push(last);
      }
      return reverted;
    });
  }

  /**
   * `npm run migration:up`: applies the next `steps` pending migrations, or those up to and
   * including `to`, under one lock; later ones stay pending.
   */
  async runMigrationsUpTo(
    target: { steps: number } | { to: string },
    options?: MigrationOptions,
  ): Promise<Migration[]> {
    return this.underMigrationLock(async () => {
      const { applied, pending } = await migrationStatus(this, true);
      if ('to' in target && !pending.includes(target.to)) {
        if (applied.includes(target.to)) return [];
        throw new Error(`${target.to} is not a migration of this code`);
      }
      const chosen =
        'steps' in target ? pending.slice(0, target.steps) : pending.slice(0, pending.indexOf(target.to) + 1);
      const keep = new Set([...applied, ...chosen]);
      const all = this.migrations;
      const code = await codeMigrations(all);
      const self = this as unknown as { migrations: MigrationInterface[] };
      self.migrations = code.filter((m) => keep.has(m.name)).map((m) => m.instance);
      try {
        return await super.runMigrations(options);
      } finally {
        self.migrations = all;
      }
    });
  }

  /** Pending migrations and history problems, for `npm run migration:status` and /readyz. */
  async migrationStatus(): Promise<MigrationStatus> {
    return migrationStatus(this, this.migrationSettings().allowOutOfOrder);
  }

  async repairMigrationHistory(options: { forgetMissing: boolean }) {
    return this.withHistoryLock(() => repairHistory(this, options));
  }

  /** Marks migrations up to `to` applied without running them; refused when history disagrees. */
  async stampMigrations(to: string): Promise<string[]> {
    return this.underMigrationLock(() => stampMigrations(this, to));
  }

  /** Records what an operator verified about a (dirty) migration; the one command that runs while dirty. */
  async forceMigration(name: string, applied: boolean): Promise<void> {
    return this.withHistoryLock(() => forceMigration(this, name, applied));
  }

  /** Runs `work` under the migration lock, which every run that changes the schema or its history takes. */
  holdingMigrationLock<T>(work: () => Promise<T>): Promise<T> {
    return withMigrationLock(this.migrationSettings(), () => work());
  }

  private withHistoryLock<T>(work: () => Promise<T>): Promise<T> {
    return this.holdingMigrationLock(async () => {
      await bootstrapHistory(this);
      return work();
    });
  }

  private migrationSettings(): MigrationSettings {
    const { storage } = this.platform;
    return {
      connectionUrl: (this.options as PostgresDataSourceOptions).url as string,
      schema: SCHEMA,
      lockWaitMs: storage.migrationLockWaitMs,
      statementLockTimeoutMs: storage.migrationLockTimeoutMs,
      allowOutOfOrder: storage.migrationsAllowOutOfOrder,
      connectTimeoutMs: this.platform.storage.databaseConnectTimeoutMs,
    };
  }

  private underMigrationLock<T>(work: () => Promise<T>): Promise<T> {
    const settings = this.migrationSettings();
    return withMigrationLock(settings, async (lock) => {
      await bootstrapHistory(this);
      await verifyHistory(this, settings.allowOutOfOrder);
      await instrumentMigrations(this, settings, lock);
      return work();
    });
  }

  private async stopEmbedded(): Promise<void> {
    const embedded = this.embedded;
    this.embedded = undefined;
    if (embedded?.owned) await embedded.stop();
  }

  /** CREATE SCHEMA only when missing, so a role without CREATE on the database still starts. */
  private async ensureSchema(): Promise<void> {
    const exists = async () =>
      (await this.query<unknown[]>('SELECT 1 FROM pg_namespace WHERE nspname = $1', [SCHEMA])).length > 0;
    if (await exists()) return;
    try {
      await this.query(`CREATE SCHEMA IF NOT EXISTS "${SCHEMA}"`);
    } catch (error) {
      // IF NOT EXISTS does not hold against a concurrent CREATE: when several processes start on
      // a new database at once, the losers get a unique violation for a schema that now exists.
      if (!(await exists())) throw error;
    }
  }
}

/** The DataSource the TypeORM CLI loads (`npm run typeorm -- …`). */
export const AppDataSource = new PlatformDataSource({
  storage: loadStorageConfig(),
  applicationName: 'platform-api-cli',
  forMigrations: true,
});
