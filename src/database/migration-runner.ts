import { Client } from 'pg';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import {
  codeMigrations,
  HISTORY_UNIQUE_DDL,
  historyProblems,
  LEDGER_DDL,
  MigrationHistoryError,
  migrationChecksum,
  migrationName,
  recordApplied,
  type AppliedMigration,
  type LedgerRow,
} from './migration-ledger';

/** Every process that migrates this database takes this advisory lock first. */
export const MIGRATION_LOCK_KEY = 7_318_224_505;

export interface MigrationSettings {
  connectionUrl: string;
  schema: string;
  /** How long a run waits for another run's lock before giving up. */
  lockWaitMs: number;
  /** lock_timeout for the statements of a migration, so a deploy never queues behind a long transaction. */
  statementLockTimeoutMs: number;
  allowOutOfOrder: boolean;
  /** How long the lock's own session may take to connect (DATABASE_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs: number;
}

export class MigrationLockTimeoutError extends Error {}

/** The lock's session ended during a run: the lock went with it, so another run may have started. */
export class MigrationLockLostError extends Error {}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  problems: string[];
}

/**
 * Runs `work` while holding the migration advisory lock on a session of its own, outside the
 * pool and outside any transaction, so that non-transactional migrations (CREATE INDEX
 * CONCURRENTLY) still work. A crashed holder releases the lock with its connection.
 */
export async function withMigrationLock<T>(
  settings: MigrationSettings,
  work: (lock: Client) => Promise<T>,
): Promise<T> {
  const lock = new Client({
    connectionString: settings.connectionUrl,
    application_name: 'platform-api-migration-lock',
    options: `-c search_path=${settings.schema}`,
    connectionTimeoutMillis: settings.connectTimeoutMs,
  });
  // PostgreSQL can end the lock's session during a run (a restart, pg_terminate_backend). pg then
  // emits 'error', which with no listener would end the process with a bare stack trace.
  let lost: Error | null = null;
  lock.on('error', (error) => {
    lost ??= error;
  });
  await lock.connect();
  try {
    const result = await holdingLock(lock, settings, work).catch((error: unknown) => {
      throw lost ? lockLost(lost, error) : error;
    });
    // Even a run that finished did part of its work unguarded: the deploy should hear of it.
    if (lost) throw lockLost(lost, null);
    return result;
  } finally {
    await lock.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}

function lockLost(cause: Error, failure: unknown): MigrationLockLostError {
  const failed = failure instanceof Error && failure !== cause ? ` The run then failed: ${failure.message}.` : '';
  return new MigrationLockLostError(
    `The migration lock's session ended during the run (${cause.message}), and the lock with it: another run ` +
      `may have started.${failed} Check \`npm run migration:status\` before running again.`,
    { cause },
  );
}

async function holdingLock<T>(
  lock: Client,
  settings: MigrationSettings,
  work: (lock: Client) => Promise<T>,
): Promise<T> {
  await lock.query(`SET lock_timeout = ${Math.floor(settings.lockWaitMs)}`);
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') {
      throw new MigrationLockTimeoutError(
        `Another migration run has held the migration lock for more than ${settings.lockWaitMs} ms: ` +
          'wait for it to finish (or find the stuck session in pg_stat_activity, application_name ' +
          "'platform-api-migration-lock') and run again. MIGRATION_LOCK_WAIT_MS sets the wait.",
      );
    }
    throw error;
  }
  await lock.query('RESET lock_timeout');
  return await work(lock);
}

/** The history table (with its unique name) and the ledger: created before anything else runs. */
export async function bootstrapHistory(db: DataSource): Promise<void> {
  for (const ddl of LEDGER_DDL) await db.query(ddl);
  await db.query(HISTORY_UNIQUE_DDL);
}

async function readHistory(db: DataSource): Promise<{ applied: AppliedMigration[]; ledger: LedgerRow[] }> {
  const [exists] = await db.query<{ ok: boolean }[]>(
    `SELECT to_regclass('migrations') IS NOT NULL AND to_regclass('migration_ledger') IS NOT NULL AS ok`,
  );
  if (!exists.ok) return { applied: [], ledger: [] };
  const applied = await db.query<{ name: string; timestamp: string }[]>(
    'SELECT name, "timestamp" FROM migrations ORDER BY "timestamp"',
  );
  const ledger = await db.query<LedgerRow[]>('SELECT name, checksum, success FROM migration_ledger');
  return { applied: applied.map((row) => ({ name: row.name, timestamp: Number(row.timestamp) })), ledger };
}

export async function migrationStatus(db: DataSource, allowOutOfOrder: boolean): Promise<MigrationStatus> {
  const code = codeMigrations(db.migrations);
  const { applied, ledger } = await readHistory(db);
  const appliedNames = new Set(applied.map((m) => m.name));
  return {
    applied: applied.map((m) => m.name),
    pending: code.filter((m) => !appliedNames.has(m.name)).map((m) => m.name),
    problems: historyProblems(code, applied, ledger, allowOutOfOrder),
  };
}

/**
 * Refuses to go on when history and code disagree. Applied migrations that the ledger has
 * never seen (a database migrated before the ledger existed) are recorded as they are now.
 */
export async function verifyHistory(db: DataSource, allowOutOfOrder: boolean): Promise<void> {
  const code = codeMigrations(db.migrations);
  const { applied, ledger } = await readHistory(db);
  const known = new Set(ledger.filter((row) => row.success).map((row) => row.name));
  const runner = db.createQueryRunner();
  try {
    for (const migration of code) {
      if (applied.some((a) => a.name === migration.name) && !known.has(migration.name)) {
        await recordApplied(runner, migration, new Date());
      }
    }
  } finally {
    await runner.release();
  }
  const problems = historyProblems(code, applied, (await readHistory(db)).ledger, allowOutOfOrder);
  if (problems.length) throw new MigrationHistoryError(`Refusing to migrate:\n- ${problems.join('\n- ')}`);
}

const INSTRUMENTED = Symbol('instrumented');

/**
 * Each migration runs with lock_timeout, so that a deploy never queues behind a long
 * transaction (and everything else behind the deploy). On PostgreSQL 14+ the server also
 * checks every second that the client is still there, so a killed deploy's statement aborts
 * and releases its locks instead of running on.
 */
async function withMigrationTimeouts(runner: QueryRunner, ms: number, step: () => Promise<void>): Promise<void> {
  const scope = runner.isTransactionActive ? 'LOCAL ' : '';
  const [{ version }] = (await runner.query(`SELECT current_setting('server_version_num')::int AS version`)) as {
    version: number;
  }[];
  await runner.query(`SET ${scope}lock_timeout = ${Math.floor(ms)}`);
  if (version >= 140000) await runner.query(`SET ${scope}client_connection_check_interval = 1000`);
  try {
    await step();
  } finally {
    if (!scope) {
      await runner.query('RESET lock_timeout');
      if (version >= 140000) await runner.query('RESET client_connection_check_interval');
    }
  }
}

/**
 * Wraps each migration so that it runs with lock_timeout, and records in the ledger, in its own
 * transaction, its checksum, when it ran and how long it took (a failure is recorded on the
 * lock's session, since the migration's transaction is gone). A revert removes the record.
 */
export function instrumentMigrations(db: DataSource, settings: MigrationSettings, lock: Client): void {
  for (const instance of db.migrations as (MigrationInterface & { [INSTRUMENTED]?: Client })[]) {
    const name = migrationName(instance);
    const checksum = migrationChecksum(instance);
    if (instance[INSTRUMENTED]) {
      instance[INSTRUMENTED] = lock;
      continue;
    }
    instance[INSTRUMENTED] = lock;
    const up = instance.up.bind(instance);
    const down = instance.down.bind(instance);
    instance.up = async (runner: QueryRunner) => {
      const startedAt = new Date();
      try {
        await withMigrationTimeouts(runner, settings.statementLockTimeoutMs, () => up(runner));
        await recordApplied(runner, { name, checksum }, startedAt);
      } catch (error) {
        await instance[INSTRUMENTED]?.query(
          `INSERT INTO migration_ledger (name, checksum, started_at, duration_ms, success, error)
             VALUES ($1, $2, $3, $4, false, $5)
             ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, started_at = EXCLUDED.started_at,
               duration_ms = EXCLUDED.duration_ms, success = false, error = EXCLUDED.error`,
          [name, checksum, startedAt, Date.now() - startedAt.getTime(), String((error as Error)?.message ?? error)],
        ).catch(() => undefined);
        throw error;
      }
    };
    instance.down = async (runner: QueryRunner) => {
      await withMigrationTimeouts(runner, settings.statementLockTimeoutMs, () => down(runner));
      await runner.query('DELETE FROM migration_ledger WHERE name = $1', [name]);
    };
  }
}

/**
 * `npm run migration:repair`: accepts the code as it is now. Checksums of applied migrations
 * are realigned, failed attempts forgotten, and, only when asked, history rows of migrations
 * that no longer exist in the code are removed.
 */
export async function repairHistory(
  db: DataSource,
  options: { forgetMissing: boolean },
): Promise<{ realigned: string[]; forgotten: string[]; missing: string[] }> {
  const code = new Map(codeMigrations(db.migrations).map((m) => [m.name, m]));
  const { applied, ledger } = await readHistory(db);
  const realigned: string[] = [];
  const forgotten: string[] = [];
  const missing: string[] = [];
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM migration_ledger WHERE NOT success');
    for (const migration of applied) {
      const current = code.get(migration.name);
      if (!current) {
        if (options.forgetMissing) {
          await tx.query('DELETE FROM migrations WHERE name = $1', [migration.name]);
          await tx.query('DELETE FROM migration_ledger WHERE name = $1', [migration.name]);
          forgotten.push(migration.name);
        } else {
          missing.push(migration.name);
        }
        continue;
      }
      const row = ledger.find((r) => r.name === migration.name && r.success);
      if (row && row.checksum === current.checksum) continue;
      await tx.query(
        `INSERT INTO migration_ledger (name, checksum, started_at, duration_ms, success, repaired_at)
         VALUES ($1, $2, now(), 0, true, now())
         ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, success = true, error = NULL, repaired_at = now()`,
        [migration.name, current.checksum],
      );
      realigned.push(migration.name);
    }
  });
  return { realigned, forgotten, missing };
}
