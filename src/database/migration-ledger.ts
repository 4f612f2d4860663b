import type { MigrationInterface } from 'typeorm';
import { compiledClassChecksum, migrationChecksum } from './migration-checksum';

export { migrationChecksum } from './migration-checksum';

/** Raised before anything is applied when history and code disagree; the message names the migration. */
export class MigrationHistoryError extends Error {}

/** Checksums of the SQL a migration runs (migration-checksum.ts); 1 was the class as compiled. */
export const CHECKSUM_SCHEME = 2;

export interface CodeMigration {
  name: string;
  timestamp: number;
  checksum: string;
  /** What a ledger written before SQL checksums recorded for this migration as built now. */
  compiledChecksum: string;
  /** False for a migration that runs outside a transaction (`transaction = false`). */
  transactional: boolean;
  instance: MigrationInterface;
}

export interface AppliedMigration {
  name: string;
  timestamp: number;
}

export interface LedgerRow {
  name: string;
  checksum: string;
  checksumScheme: number;
  /** When it (last) started, and how long it took. */
  startedAt: Date;
  durationMs: number;
  success: boolean;
  /** Recorded as applied without running (`migration:stamp`). */
  stamped: boolean;
  /** Failed or interrupted outside a transaction: it may have left part of its changes. */
  dirty: boolean;
  error: string | null;
  repairedAt: Date | null;
  /** Set by `migration:force`, after an operator checked the database. */
  forcedAt: Date | null;
}

export function migrationName(instance: MigrationInterface): string {
  return instance.name ?? instance.constructor.name;
}

export function migrationTimestamp(name: string): number {
  return Number(name.slice(-13));
}

export async function codeMigrations(instances: readonly MigrationInterface[]): Promise<CodeMigration[]> {
  const migrations = await Promise.all(
    instances.map(async (instance) => {
      const name = migrationName(instance);
      return {
        name,
        timestamp: migrationTimestamp(name),
        checksum: await migrationChecksum(instance),
        compiledChecksum: compiledClassChecksum(instance),
        transactional: (instance as { transaction?: boolean }).transaction !== false,
        instance,
      };
    }),
  );
  return migrations.sort((a, b) => a.timestamp - b.timestamp);
}

export const LEDGER_DDL = [
  `CREATE TABLE IF NOT EXISTS platform.migrations (
     id SERIAL NOT NULL, "timestamp" bigint NOT NULL, name character varying NOT NULL,
     CONSTRAINT "PK_migrations" PRIMARY KEY (id))`,
  `CREATE TABLE IF NOT EXISTS platform.migration_ledger (
     name character varying(255) NOT NULL,
     checksum character(64) NOT NULL,
     started_at timestamptz NOT NULL,
     duration_ms integer NOT NULL,
     success boolean NOT NULL,
     error text,
     repaired_at timestamptz,
     CONSTRAINT "PK_migration_ledger" PRIMARY KEY (name),
     CONSTRAINT "CHK_migration_ledger_checksum" CHECK (checksum ~ '^[0-9a-f]{64}$'))`,
  // Added in place to ledgers written before them; rows already there keep checksum scheme 1.
  `DO $$ BEGIN
     IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'platform'
                    AND table_name = 'migration_ledger' AND column_name = 'checksum_scheme') THEN
       ALTER TABLE platform.migration_ledger
         ADD COLUMN checksum_scheme smallint NOT NULL DEFAULT 1,
         ADD COLUMN stamped boolean NOT NULL DEFAULT false,
         ADD COLUMN dirty boolean NOT NULL DEFAULT false,
         ADD COLUMN forced_at timestamptz;
     END IF;
   END $$`,
];

/** The second line of defence against a migration recorded twice: a unique name in the history table. */
export const HISTORY_UNIQUE_DDL = `DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'UQ_migrations_name'
                 AND connamespace = 'platform'::regnamespace) THEN
    ALTER TABLE platform.migrations ADD CONSTRAINT "UQ_migrations_name" UNIQUE (name);
  END IF;
END $$`;

/** Anything that runs a statement: a query runner, an entity manager, a DataSource, a pg client. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** Records a migration as applied (or stamped): success, not dirty, with today's checksum scheme. */
export async function recordApplied(
  runner: Queryable,
  migration: Pick<CodeMigration, 'name' | 'checksum'>,
  startedAt: Date,
  options: { stamped?: boolean; forced?: boolean } = {},
): Promise<void> {
  await runner.query(
    `INSERT INTO platform.migration_ledger
       (name, checksum, checksum_scheme, started_at, duration_ms, success, error, stamped, dirty, forced_at)
     VALUES ($1, $2, $3, $4, $5, true, NULL, $6, false, CASE WHEN $7::boolean THEN now() END)
     ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, checksum_scheme = EXCLUDED.checksum_scheme,
       started_at = EXCLUDED.started_at, duration_ms = EXCLUDED.duration_ms, success = true, error = NULL,
       repaired_at = NULL, stamped = EXCLUDED.stamped, dirty = false, forced_at = EXCLUDED.forced_at`,
    [
      migration.name,
      migration.checksum,
      CHECKSUM_SCHEME,
      startedAt,
      Date.now() - startedAt.getTime(),
      options.stamped ?? false,
      options.forced ?? false,
    ],
  );
}

/**
 * Records a failed or unfinished attempt. `dirty` when it ran outside a transaction: then it
 * may have left part of its changes, and nothing else runs until `migration:force` says what it left.
 */
export async function recordFailure(
  runner: Queryable,
  migration: Pick<CodeMigration, 'name' | 'checksum'>,
  attempt: { startedAt: Date; dirty: boolean; error: string },
): Promise<void> {
  await runner.query(
    `INSERT INTO platform.migration_ledger (name, checksum, checksum_scheme, started_at, duration_ms, success, error, dirty)
     VALUES ($1, $2, $3, $4, $5, false, $6, $7)
     ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, checksum_scheme = EXCLUDED.checksum_scheme,
       started_at = EXCLUDED.started_at, duration_ms = EXCLUDED.duration_ms, success = false,
       error = EXCLUDED.error, dirty = EXCLUDED.dirty, stamped = false`,
    [
      migration.name,
      migration.checksum,
      CHECKSUM_SCHEME,
      attempt.startedAt,
      Date.now() - attempt.startedAt.getTime(),
      attempt.error,
      attempt.dirty,
    ],
  );
}

/** A ledger row read as JSON, so that a ledger from before a column existed still reads. */
export function ledgerRow(json: Record<string, unknown>): LedgerRow {
  const date = (value: unknown) => (value == null ? null : new Date(value as string));
  return {
    name: json.name as string,
    checksum: json.checksum as string,
    checksumScheme: (json.checksum_scheme as number | undefined) ?? 1,
    startedAt: new Date(json.started_at as string),
    durationMs: json.duration_ms as number,
    success: json.success as boolean,
    stamped: (json.stamped as boolean | undefined) ?? false,
    dirty: (json.dirty as boolean | undefined) ?? false,
    error: (json.error as string | null) ?? null,
    repairedAt: date(json.repaired_at),
    forcedAt: date(json.forced_at),
  };
}

/** Whether a successful ledger row still describes the migration as the code has it now. */
export function checksumMatches(row: LedgerRow, migration: CodeMigration): boolean {
  return row.checksumScheme === 1 ? row.checksum === migration.compiledChecksum : row.checksum === migration.checksum;
}

function editedProblem(row: LedgerRow, migration: CodeMigration): string {
  const now = row.checksumScheme === 1 ? migration.compiledChecksum : migration.checksum;
  const why =
    row.checksumScheme === 1
      ? 'was edited, or built with another TypeScript version or target, after it ran (its checksum predates SQL checksums'
      : 'was edited after it ran (';
  return (
    `Applied migration ${migration.name} ${why}: checksum ${row.checksum.slice(0, 12)}… is now ${now.slice(0, 12)}…): ` +
    'put the change in a new migration, or accept it with `npm run migration:repair` if it changes nothing that ran'
  );
}

export function dirtyProblem(row: LedgerRow): string {
  return (
    `Migration ${row.name} is dirty: it ran outside a transaction and did not finish (${row.error ?? 'no error recorded'}), ` +
    'so it may have left part of its changes. Check the database, then record what you found: ' +
    `\`npm run migration:force -- ${row.name} --applied\` or \`-- ${row.name} --not-applied\``
  );
}

/**
 * What is wrong between the history in the database and the migrations in the code:
 * a dirty migration, an applied migration missing from the code, one whose checksum changed,
 * and (unless allowed) a pending one older than the newest applied. Empty when all is well.
 */
export function historyProblems(
  code: CodeMigration[],
  applied: AppliedMigration[],
  ledger: LedgerRow[],
  allowOutOfOrder: boolean,
): string[] {
  const problems = ledger.filter((row) => row.dirty).map(dirtyProblem);
  const inCode = new Map(code.map((m) => [m.name, m]));
  const recorded = new Map(ledger.filter((row) => row.success).map((row) => [row.name, row]));
  for (const migration of applied) {
    const current = inCode.get(migration.name);
    if (!current) {
      problems.push(`Applied migration ${migration.name} no longer exists in src/migrations`);
      continue;
    }
    const row = recorded.get(migration.name);
    if (row && !checksumMatches(row, current)) problems.push(editedProblem(row, current));
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
