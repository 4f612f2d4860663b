import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { keepOriginalSteps } from '../migration-checksum';
import { codeMigrations, HISTORY_UNIQUE_DDL, LEDGER_DDL, recordApplied } from '../migration-ledger';
import { copyLegacyRows, verifyCopy, type Copied } from './copy';
import { detect, LEGACY_SCHEMA, type LegacyMaps } from './legacy-shape';
import { survey, type Sql, type Survey } from './survey';

export interface AdoptionOptions {
  dryRun: boolean;
  maps: LegacyMaps;
  /** Organization slug → plan code; the others start on the free plan. */
  plans: Record<string, string>;
  lockUnknownPasswords: boolean;
  encryptionKey: Buffer;
  /** lock_timeout while taking the legacy tables: a busy legacy application makes adoption fail fast. */
  lockTimeoutMs: number;
}

/** The database to adopt, and how to hold the migration lock while adopting it. */
export interface AdoptionTarget {
  db: DataSource;
  withMigrationLock<T>(work: () => Promise<T>): Promise<T>;
}

export type AdoptionResult =
  | { outcome: 'not-legacy'; reasons: string[] }
  | { outcome: 'current'; adopted: boolean }
  | { outcome: 'dry-run' | 'refused'; survey: Survey }
  | {
      outcome: 'adopted';
      survey: Survey;
      migrations: string[];
      /** Migrations that cannot run in a transaction, left for the run that follows the commit. */
      remaining: string[];
      copied: Copied;
      verified: string[];
    };

async function platformTables(sql: Sql): Promise<{ tables: Map<string, Set<string>>; legacyExists: boolean }> {
  const rows = await sql<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'platform'`,
  );
  const tables = new Map<string, Set<string>>();
  for (const row of rows) {
    if (!tables.has(row.table_name)) tables.set(row.table_name, new Set());
    tables.get(row.table_name)?.add(row.column_name);
  }
  const [legacy] = await sql<{ exists: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists',
    [LEGACY_SCHEMA],
  );
  return { tables, legacyExists: legacy.exists };
}

/** Writes to every legacy table wait until adoption commits (and then find them moved); reads go on. */
async function lockLegacyTables(sql: Sql, lockTimeoutMs: number): Promise<void> {
  await sql(`SET LOCAL lock_timeout = ${Math.floor(lockTimeoutMs)}`);
  const tables = await sql<{ name: string }>(
    `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
     WHERE table_schema = 'platform' AND table_type = 'BASE TABLE'`,
  );
  await sql(`LOCK TABLE ${tables.map((t) => t.name).join(', ')} IN EXCLUSIVE MODE`);
}

/**
 * The current schema, built by the migrations on the adoption's own transaction and recorded in
 * the history and ledger like any run. It stops before the first migration that cannot run in a
 * transaction (CREATE INDEX CONCURRENTLY): that one and those after it run once adoption commits.
 */
async function buildSchema(runner: QueryRunner, instances: MigrationInterface[]) {
  for (const ddl of [...LEDGER_DDL, HISTORY_UNIQUE_DDL]) await runner.query(ddl);
  const code = await codeMigrations(instances);
  const applied: string[] = [];
  for (const migration of code) {
    if (!migration.transactional) break;
    const startedAt = new Date();
    await keepOriginalSteps(migration.instance).up(runner);
    await runner.query('INSERT INTO platform.migrations ("timestamp", name) VALUES ($1, $2)', [
      migration.timestamp,
      migration.name,
    ]);
    await recordApplied(runner, migration, startedAt);
    applied.push(migration.name);
  }
  return { applied, remaining: code.slice(applied.length).map((m) => m.name) };
}

async function adoptInTransaction(
  runner: QueryRunner,
  target: AdoptionTarget,
  options: AdoptionOptions,
): Promise<AdoptionResult> {
  const sql: Sql = (text, params) => runner.query(text, params);
  if (options.dryRun) await sql('SET TRANSACTION READ ONLY');
  const { tables, legacyExists } = await platformTables(sql);
  const detected = detect(tables, legacyExists);
  if (detected.kind === 'current') return { outcome: 'current', adopted: detected.adopted };
  if (detected.kind === 'unknown') return { outcome: 'not-legacy', reasons: detected.reasons };
  if (!options.dryRun) await lockLegacyTables(sql, options.lockTimeoutMs);
  const found = await survey(sql, options);
  if (found.refusals.length) return { outcome: 'refused', survey: found };
  if (options.dryRun) return { outcome: 'dry-run', survey: found };
  await sql(`ALTER SCHEMA platform RENAME TO ${LEGACY_SCHEMA}`);
  await sql('CREATE SCHEMA platform');
  const { applied, remaining } = await buildSchema(runner, target.db.migrations);
  const copied = await copyLegacyRows(sql, options);
  const verified = await verifyCopy(sql, options.encryptionKey);
  return { outcome: 'adopted', survey: found, migrations: applied, remaining, copied, verified };
}

/**
 * `npm run db:adopt`: converts a database in the legacy shape in one transaction. The legacy
 * schema is renamed to platform_legacy whole (seed 004's "rename old, create new, copy"), the
 * migrations build the current `platform` schema, the rows are copied and checked, and only then
 * does it commit: a refusal or any error leaves the database as it was. A dry run reads, in a
 * read-only transaction, and reports the same.
 */
export async function adoptLegacyDatabase(target: AdoptionTarget, options: AdoptionOptions): Promise<AdoptionResult> {
  return target.withMigrationLock(async () => {
    const runner = target.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction(options.dryRun ? 'REPEATABLE READ' : 'READ COMMITTED');
      const result = await adoptInTransaction(runner, target, options);
      if (result.outcome === 'adopted') await runner.commitTransaction();
      else await runner.rollbackTransaction();
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  });
}
