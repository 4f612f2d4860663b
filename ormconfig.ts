import 'reflect-metadata';
import path from 'node:path';
import { DataSource, type Logger } from 'typeorm';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
import { loadStorageConfig, type StorageConfig } from './src/config';
import { ensureDatabase } from './src/database/ensure-database';
import { startEmbeddedPostgres, type RunningPostgres } from './src/database/embedded-postgres';
import { PlatformNamingStrategy } from './src/database/naming-strategy';
import { entities } from './src/entities';

export const SCHEMA = 'platform';
export const EMBEDDED_DATABASE = 'platform';

export interface PlatformDataSourceOptions {
  storage: StorageConfig;
  logger?: Logger;
  poolSize?: number;
  applicationName?: string;
}

/**
 * The one DataSource of the CLI and the app. On top of TypeORM's it
 * - starts (or joins) the embedded PostgreSQL when DATABASE_URL is unset, and stops it on destroy;
 * - creates the `platform` schema before anything else touches it, and pins search_path to it
 *   so that raw SQL can never land in `public`.
 */
export class PlatformDataSource extends DataSource {
  private embedded: RunningPostgres | undefined;

  constructor(private readonly platform: PlatformDataSourceOptions) {
    const options: PostgresDataSourceOptions = {
      type: 'postgres',
      url: platform.storage.databaseUrl,
      schema: SCHEMA,
      entities,
      migrations: [path.join(__dirname, 'src', 'migrations', '*.{ts,js}')],
      migrationsTableName: 'migrations',
      migrationsTransactionMode: 'each',
      namingStrategy: new PlatformNamingStrategy(),
      synchronize: false,
      migrationsRun: false,
      installExtensions: false,
      uuidExtension: 'pgcrypto',
      applicationName: platform.applicationName ?? 'platform-api',
      poolSize: platform.poolSize ?? 10,
      logger: platform.logger,
      logging: platform.logger ? 'all' : false,
      extra: { options: `-c search_path=${SCHEMA}` },
    };
    super(options);
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
      await super.initialize();
      await this.ensureSchema();
    } catch (error) {
      await this.stopEmbedded();
      throw error;
    }
    return this;
  }

  override async destroy(): Promise<void> {
    try {
      if (this.isInitialized) await super.destroy();
    } finally {
      await this.stopEmbedded();
    }
  }

  private async stopEmbedded(): Promise<void> {
    const embedded = this.embedded;
    this.embedded = undefined;
    if (embedded?.owned) await embedded.stop();
  }

  /** CREATE SCHEMA only when missing, so a role without CREATE on the database still starts. */
  private async ensureSchema(): Promise<void> {
    const rows: unknown[] = await this.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [SCHEMA]);
    if (rows.length === 0) await this.query(`CREATE SCHEMA IF NOT EXISTS "${SCHEMA}"`);
  }
}

/** The DataSource the TypeORM CLI loads (`npm run typeorm -- …`). */
export const AppDataSource = new PlatformDataSource({
  storage: loadStorageConfig(),
  applicationName: 'platform-api-cli',
});
