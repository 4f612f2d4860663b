import { createHash } from 'node:crypto';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Raised before anything is applied when history and code disagree; the message names the migration. */
export class MigrationHistoryError extends Error {}

export interface CodeMigration {
  name: string;
  timestamp: number;
  checksum: string;
  instance: MigrationInterface;
}

export interface AppliedMigration {
  name: string;
  timestamp: number;
}

export interface LedgerRow {
  name: string;
  checksum: string;
  success: boolean;
}

export function migrationName(instance: MigrationInterface): string {
  return instance.name ?? instance.constructor.name;
}

/**
 * The checksum of a migration is the SHA-256 of its class as compiled, which is the same under
 * the CLI's ts-node and the build's tsc: any change to what it executes (or to a comment in
 * it) changes the checksum; reformatting the file does not.
 */
export function migrationChecksum(instance: MigrationInterface): string {
  return createHash('sha256').update(String(instance.constructor)).digest('hex');
}

export function codeMigrations(instances: readonly MigrationInterface[]): CodeMigration[] {
  return instances
    .map((instance) => {
      const name = migrationName(instance);
      return { name, timestamp: Number(name.slice(-13)), checksum: migrationChecksum(instance), instance };
    })
    .sort((a, b) => a.timestamp - b.timestamp);
}

export const LEDGER_DDL = [
  `CREATE TABLE IF NOT EXISTS migrations (
     id SERIAL NOT NULL, "timestamp" bigint NOT NULL, name character varying NOT NULL,
     CONSTRAINT "PK_migrations" PRIMARY KEY (id))`,
  `CREATE TABLE IF NOT EXISTS migration_ledger (
     name character varying(255) NOT NULL,
     checksum character(64) NOT NULL,
     started_at timestamptz NOT NULL,
     duration_ms integer NOT NULL,
     success boolean NOT NULL,
     error text,
     repaired_at timestamptz,
     CONSTRAINT "PK_migration_ledger" PRIMARY KEY (name),
     CONSTRAINT "CHK_migration_ledger_checksum" CHECK (checksum ~ '^[0-9a-f]{64}$'))`,
];

/** The second line of defence against a migration recorded twice: a unique name in the history table. */
export const HISTORY_UNIQUE_DDL = `DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'UQ_migrations_name'
                 AND connamespace = current_schema()::regnamespace) THEN
    ALTER TABLE migrations ADD CONSTRAINT "UQ_migrations_name" UNIQUE (name);
  END IF;
END $$`;

export async function recordApplied(
  runner: QueryRunner,
  migration: Pick<CodeMigration, 'name' | 'checksum'>,
  startedAt: Date,
): Promise<void> {
  await runner.query(
    `INSERT INTO migration_ledger (name, checksum, started_at, duration_ms, success, error)
     VALUES ($1, $2, $3, $4, true, NULL)
     ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, started_at = EXCLUDED.started_at,
       duration_ms = EXCLUDED.duration_ms, success = true, error = NULL, repaired_at = NULL`,
    [migration.name, migration.checksum, startedAt, Date.now() - startedAt.getTime()],
  );
}

/**
 * What is wrong between the history in the database and the migrations in the code:
 * an applied migration missing from the code, one whose checksum changed, and (unless allowed)
 * a pending one older than the newest applied. Empty when all is well.
 */
export function historyProblems(
  code: CodeMigration[],
  applied: AppliedMigration[],
  ledger: LedgerRow[],
  allowOutOfOrder: boolean,
): string[] {
  const problems: string[] = [];
  const inCode = new Map(code.map((m) => [m.name, m]));
  const recorded = new Map(ledger.filter((row) => row.success).map((row) => [row.name, row]));
  for (const migration of applied) {
    const current = inCode.get(migration.name);
    if (!current) {
      problems.push(`Applied migration ${migration.name} no longer exists in src/migrations`);
      continue;
    }
    const row = recorded.get(migration.name);
    if (row && row.checksum !== current.checksum) {
      problems.push(
        `Applied migration ${migration.name} was edited after it ran (checksum ${row.checksum.slice(0, 12)}… ` +
          `is now ${current.checksum.slice(0, 12)}…): put the change in a new migration, ` +
          'or accept it with `npm run migration:repair` if it changes nothing that ran',
      );
    }
  }
  const appliedNames = new Set(applied.map((m) => m.name));
  const newest = Math.max(0, ...applied.map((m) => m.timestamp));
  if (!allowOutOfOrder) {
    for (const migration of code) {
      if (!appliedNames.has(migration.name) && migration.timestamp < newest) {
        problems.push(
          `Pending migration ${migration.name} is older than the newest applied one: ` +
            'give it a newer timestamp, or set MIGRATIONS_ALLOW_OUT_OF_ORDER=true to apply it anyway',
        );
      }
    }
  }
  return problems;
}
