import { Client } from 'pg';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { keepOriginalSteps } from './migration-checksum';
import { talksThroughPooler } from './pooler';
import {
  checksumMatches,
  CHECKSUM_SCHEME,
  codeMigrations,
  HISTORY_UNIQUE_DDL,
  historyProblems,
  LEDGER_DDL,
  ledgerRow,
  MigrationHistoryError,
  recordApplied,
  recordFailure,
  type AppliedMigration,
  type CodeMigration,
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

/**
 * A transaction pooler is in the way: the advisory lock would be taken by one server session and
 * the migrations run on others, so two runs would not exclude each other.
 */
export class MigrationThroughPoolerError extends Error {
  constructor() {
    super(
      'Refusing to migrate through a connection pooler (PgBouncer in transaction mode): the migration lock ' +
        'would not exclude other runs. Set MIGRATION_DATABASE_URL to a direct connection to the primary ' +
        '(postgres://user:password@primary:5432/database) and run again.',
    );
  }
}

/** The lock's session ended during a run: the lock went with it, so another run may have started. */
export class MigrationLockLostError extends Error {}

/** One migration as `migration:status` shows it. */
export interface MigrationRecord {
  name: string;
  state: 'applied' | 'stamped' | 'pending' | 'failed' | 'dirty';
  /** When it last ran (or was stamped, or failed), and how long it took. */
  ranAt: Date | null;
  durationMs: number | null;
  checksum: string | null;
  error: string | null;
  repairedAt: Date | null;
  forcedAt: Date | null;
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** Each a sentence naming the migration and what to do; empty when history and code agree. */
  problems: string[];
  /** Migrations that failed outside a transaction: `migration:force` must say what they left. */
  dirty: string[];
  /**
   * Applied migrations this code does not have, all newer than every migration it has: a newer
   * release applied them (also listed in `problems`, as missing from the code).
   */
  newer: string[];
  /** Every migration, applied ones first in the order they were applied, then failed and pending ones. */
  records: MigrationRecord[];
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
    if (await talksThroughPooler(lock)) throw new MigrationThroughPoolerError();
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

/** The history table (with its unique name) and the ledger: created, or upgraded, before anything else runs. */
export async function bootstrapHistory(db: DataSource): Promise<void> {
  for (const ddl of LEDGER_DDL) await db.query(ddl);
  await db.query(HISTORY_UNIQUE_DDL);
}

export interface History {
  applied: AppliedMigration[];
  ledger: LedgerRow[];
}

export async function readHistory(db: Pick<DataSource, 'query'>): Promise<History> {
  const [exists] = await db.query<{ history: boolean; ledger: boolean }[]>(
    `SELECT to_regclass('platform.migrations') IS NOT NULL AS history, to_regclass('platform.migration_ledger') IS NOT NULL AS ledger`,
  );
  if (!exists.history) return { applied: [], ledger: [] };
  const applied = await db.query<{ name: string; timestamp: string }[]>(
    'SELECT name, "timestamp" FROM platform.migrations ORDER BY "timestamp", id',
  );
  // Read as JSON: a ledger from before a column was added still reads, before anything upgrades it.
  const ledger = exists.ledger
    ? await db.query<{ row: Record<string, unknown> }[]>('SELECT to_jsonb(l) AS row FROM platform.migration_ledger l')
    : [];
  return {
    applied: applied.map((row) => ({ name: row.name, timestamp: Number(row.timestamp) })),
    ledger: ledger.map((entry) => ledgerRow(entry.row)),
  };
}

function records(code: CodeMigration[], history: History): MigrationRecord[] {
  const byName = new Map(history.ledger.map((row) => [row.name, row]));
  const appliedNames = new Set(history.applied.map((m) => m.name));
  const record = (name: string, state: MigrationRecord['state'], row: LedgerRow | undefined): MigrationRecord => ({
    name,
    state,
    ranAt: row?.startedAt ?? null,
    durationMs: row?.durationMs ?? null,
    checksum: row?.checksum ?? null,
    error: row?.error ?? null,
    repairedAt: row?.repairedAt ?? null,
    forcedAt: row?.forcedAt ?? null,
  });
  const stateOf = (row: LedgerRow | undefined) =>
    row?.dirty ? 'dirty' : row?.stamped ? 'stamped' : row && !row.success ? 'failed' : 'applied';
  return [
    ...history.applied.map((m) => record(m.name, stateOf(byName.get(m.name)), byName.get(m.name))),
    ...code
      .filter((m) => !appliedNames.has(m.name))
      .map((m) => {
        const row = byName.get(m.name);
        return record(m.name, row?.dirty ? 'dirty' : row ? 'failed' : 'pending', row);
      }),
  ];
}

export async function migrationStatus(db: DataSource, allowOutOfOrder: boolean): Promise<MigrationStatus> {
  const code = await codeMigrations(db.migrations);
  const history = await readHistory(db);
  const appliedNames = new Set(history.applied.map((m) => m.name));
  const known = new Set(code.map((m) => m.name));
  const newestKnown = Math.max(0, ...code.map((m) => m.timestamp));
  return {
    applied: history.applied.map((m) => m.name),
    pending: code.filter((m) => !appliedNames.has(m.name)).map((m) => m.name),
    problems: historyProblems(code, history.applied, history.ledger, allowOutOfOrder),
    dirty: history.ledger.filter((row) => row.dirty).map((row) => row.name),
    newer: history.applied.filter((m) => !known.has(m.name) && m.timestamp > newestKnown).map((m) => m.name),
    records: records(code, history),
  };
}

/**
 * Ledger rows written before SQL checksums hold the checksum of the class as compiled. Where
 * that still matches the migration as built now, the row takes today's checksum: the ledger is
 * upgraded in place, without operator action. A row that does not match stays, and is reported.
 */
export async function upgradeChecksums(db: Pick<DataSource, 'query'>, code: CodeMigration[]): Promise<string[]> {
  const { ledger } = await readHistory(db);
  const inCode = new Map(code.map((m) => [m.name, m]));
  const upgraded: string[] = [];
  for (const row of ledger.filter((r) => r.checksumScheme === 1)) {
    const migration = inCode.get(row.name);
    if (!migration || (row.success && !checksumMatches(row, migration))) continue;
    await db.query(
      'UPDATE platform.migration_ledger SET checksum = $2, checksum_scheme = $3 WHERE name = $1 AND checksum_scheme = 1',
      [row.name, migration.checksum, CHECKSUM_SCHEME],
    );
    upgraded.push(row.name);
  }
  return upgraded;
}

/**
 * Refuses to go on when history and code disagree, or a migration is dirty. Applied migrations
 * that the ledger has never seen (a database migrated before the ledger existed) are recorded as
 * they are now, and checksums of an older scheme upgraded where they still match.
 */
export async function verifyHistory(db: DataSource, allowOutOfOrder: boolean): Promise<void> {
  const code = await codeMigrations(db.migrations);
  const { applied, ledger } = await readHistory(db);
  const known = new Set(ledger.filter((row) => row.success).map((row) => row.name));
  for (const migration of code) {
    if (applied.some((a) => a.name === migration.name) && !known.has(migration.name)) {
      await recordApplied(db, migration, new Date());
    }
  }
  await upgradeChecksums(db, code);
  const problems = historyProblems(code, applied, (await readHistory(db)).ledger, allowOutOfOrder);
  if (problems.length) throw new MigrationHistoryError(`Refusing to migrate:\n- ${problems.join('\n- ')}`);
}

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

const LOCK_SESSION = Symbol('the migration lock session');

type Instrumented = MigrationInterface & { [LOCK_SESSION]?: Client };

const message = (error: unknown) => String((error as Error)?.message ?? error);

/**
 * `up` that runs with lock_timeout and records in the ledger, in its own transaction, its
 * checksum, when it ran and how long it took. A failure is recorded on the lock's session, since
 * the migration's transaction is gone. Outside a transaction the migration is marked dirty
 * before it starts, so that a crash in the middle leaves the mark (golang-migrate's dirty flag).
 */
function instrumentedUp(instance: Instrumented, migration: CodeMigration, settings: MigrationSettings) {
  const { up } = keepOriginalSteps(instance);
  return async (runner: QueryRunner) => {
    const startedAt = new Date();
    const dirty = !runner.isTransactionActive;
    const lock = () => instance[LOCK_SESSION] as Client;
    if (dirty) await recordFailure(lock(), migration, { startedAt, dirty, error: 'started, and did not finish' });
    try {
      await withMigrationTimeouts(runner, settings.statementLockTimeoutMs, () => up(runner));
      await recordApplied(runner, migration, startedAt);
    } catch (error) {
      await recordFailure(lock(), migration, { startedAt, dirty, error: message(error) }).catch(() => undefined);
      throw error;
    }
  };
}

/** `down` with lock_timeout; a revert removes the record. Outside a transaction it is dirty until done. */
function instrumentedDown(instance: Instrumented, migration: CodeMigration, settings: MigrationSettings) {
  const { down } = keepOriginalSteps(instance);
  return async (runner: QueryRunner) => {
    const startedAt = new Date();
    const dirty = !runner.isTransactionActive;
    const lock = () => instance[LOCK_SESSION] as Client;
    const mark = (error: string) => recordFailure(lock(), migration, { startedAt, dirty: true, error });
    if (dirty) await mark('revert started, and did not finish');
    try {
      await withMigrationTimeouts(runner, settings.statementLockTimeoutMs, () => down(runner));
    } catch (error) {
      if (dirty) await mark(`revert failed: ${message(error)}`).catch(() => undefined);
      throw error;
    }
    await runner.query('DELETE FROM platform.migration_ledger WHERE name = $1', [migration.name]);
  };
}

/** Wraps each migration's `up` and `down` (once per instance; a later run only points them at its lock). */
export async function instrumentMigrations(db: DataSource, settings: MigrationSettings, lock: Client): Promise<void> {
  const code = new Map((await codeMigrations(db.migrations)).map((m) => [m.instance, m]));
  for (const instance of db.migrations as Instrumented[]) {
    const wrapped = instance[LOCK_SESSION] !== undefined;
    instance[LOCK_SESSION] = lock;
    if (wrapped) continue;
    const migration = code.get(instance) as CodeMigration;
    instance.up = instrumentedUp(instance, migration, settings);
    instance.down = instrumentedDown(instance, migration, settings);
  }
}
