import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PlatformDataSource } from '../../ormconfig';
import { loadStorageConfig } from '../../src/config';
import { MigrationHistoryError } from '../../src/database/migration-ledger';
import { MigrationLockLostError, MigrationLockTimeoutError } from '../../src/database/migration-runner';
import { createDatabase, dropDatabase } from '../support/database';
import { startTestApp } from '../support/server';
import {
  AddWidgetColor1700000000003,
  CreateGadgets1700000000005,
  CreateWidgets1700000000001,
  CreateWidgetsEdited,
  IndexWidgetLabels1700000000004,
  SeedWidgets1700000000002,
} from '../support/fixture-migrations';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
const TYPEORM_CLI = path.join(ROOT, '..', 'node_modules', 'typeorm', 'cli.js');

const databases: string[] = [];
async function emptyDatabase(): Promise<string> {
  const url = await createDatabase({ migrated: false });
  databases.push(url);
  return url;
}

async function sql<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Runs `work` on a DataSource over `url` with the given migration classes, then closes it. */
async function withSource<T>(
  url: string,
  migrations: (new () => MigrationInterface)[],
  work: (db: PlatformDataSource) => Promise<T>,
  env: Record<string, string> = {},
): Promise<T> {
  const db = new PlatformDataSource({
    storage: loadStorageConfig({ DATABASE_URL: url, NODE_ENV: 'test', ...env }),
    migrations,
  });
  await db.initialize();
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

const appliedNames = async (url: string) =>
  (await sql<{ name: string }>(url, 'SELECT name FROM platform.migrations ORDER BY id')).map((r) => r.name);

describe('the deploy path (npm run typeorm migration:run)', () => {
  after(async () => {
    for (const url of databases) await dropDatabase(url);
  });

  it('applies each migration exactly once when three processes run it at the same moment', async () => {
    const url = await emptyDatabase();
    const env = { ...process.env, DATABASE_URL: url, NODE_ENV: 'test' };
    const args = [TYPEORM_CLI, '-d', path.join(ROOT, 'ormconfig.js'), 'migration:run'];
    const runs = await Promise.all([1, 2, 3].map(() => run(process.execPath, args, { env })));
    const history = await appliedNames(url);
    assert.equal(new Set(history).size, history.length, 'no migration recorded twice');
    assert.ok(history.length >= 4);
    const ledger = await sql<{ name: string; success: boolean }>(
      url,
      'SELECT name, success FROM platform.migration_ledger',
    );
    assert.deepEqual(ledger.map((row) => row.name).sort(), [...history].sort());
    assert.ok(ledger.every((row) => row.success));
    const idle = runs.filter((r) => r.stdout.includes('No migrations are pending')).length;
    assert.equal(idle, 2, 'the two that waited found nothing to do');
  });

  it('creates the platform schema on an empty database, and raw SQL lands in it', async () => {
    const url = await emptyDatabase();
    await withSource(url, [CreateWidgets1700000000001], (db) => db.runMigrations());
    const [table] = await sql<{ schema: string }>(
      url,
      `SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'widgets'`,
    );
    assert.equal(table.schema, 'platform');
  });

  it('records a checksum, the time and the duration of every applied migration', async () => {
    const url = await emptyDatabase();
    await withSource(url, [CreateWidgets1700000000001, SeedWidgets1700000000002], (db) => db.runMigrations());
    const rows = await sql<{ checksum: string; started_at: Date; duration_ms: number; success: boolean }>(
      url,
      'SELECT checksum, started_at, duration_ms, success FROM platform.migration_ledger',
    );
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.match(row.checksum, /^[0-9a-f]{64}$/);
      assert.ok(row.started_at instanceof Date && row.duration_ms >= 0 && row.success);
    }
  });

  it('refuses to run when an applied migration was edited, naming it, until repaired', async () => {
    const url = await emptyDatabase();
    await withSource(url, [CreateWidgets1700000000001], (db) => db.runMigrations());
    await assert.rejects(
      withSource(url, [CreateWidgetsEdited, SeedWidgets1700000000002], (db) => db.runMigrations()),
      (error: Error) =>
        error instanceof MigrationHistoryError && /CreateWidgets1700000000001 was edited/.test(error.message),
    );
    assert.deepEqual(await sql(url, 'SELECT * FROM platform.widgets'), [], 'nothing was applied');
    const repaired = await withSource(url, [CreateWidgetsEdited], (db) =>
      db.repairMigrationHistory({ forgetMissing: false }),
    );
    assert.deepEqual(repaired.realigned, ['CreateWidgets1700000000001']);
    await withSource(url, [CreateWidgetsEdited, SeedWidgets1700000000002], (db) => db.runMigrations());
    assert.equal((await sql(url, 'SELECT * FROM platform.widgets')).length, 1);
  });

  it('refuses to run when an applied migration is missing from the code', async () => {
    const url = await emptyDatabase();
    await withSource(url, [CreateWidgets1700000000001, SeedWidgets1700000000002], (db) => db.runMigrations());
    await assert.rejects(
      withSource(url, [CreateWidgets1700000000001], (db) => db.runMigrations()),
      /SeedWidgets1700000000002 no longer exists/,
    );
  });

  it('refuses a pending migration older than the newest applied one, unless allowed', async () => {
    const url = await emptyDatabase();
    await withSource(url, [CreateWidgets1700000000001, AddWidgetColor1700000000003], (db) => db.runMigrations());
    const all = [CreateWidgets1700000000001, SeedWidgets1700000000002, AddWidgetColor1700000000003];
    await assert.rejects(
      withSource(url, all, (db) => db.runMigrations()),
      /Pending migration SeedWidgets1700000000002 is older than the newest applied one/,
    );
    await withSource(url, all, (db) => db.runMigrations(), { MIGRATIONS_ALLOW_OUT_OF_ORDER: 'true' });
    assert.deepEqual((await appliedNames(url)).at(-1), 'SeedWidgets1700000000002');
  });

  it('runs and reverts a non-transactional CREATE INDEX CONCURRENTLY under the lock', async () => {
    const url = await emptyDatabase();
    const migrations = [CreateWidgets1700000000001, IndexWidgetLabels1700000000004];
    await withSource(url, migrations, (db) => db.runMigrations());
    const indexes = () =>
      sql<{ valid: boolean }>(
        url,
        `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'IDX_widgets_label'`,
      );
    assert.deepEqual(await indexes(), [{ valid: true }]);
    await withSource(url, migrations, (db) => db.undoLastMigration());
    assert.deepEqual(await indexes(), []);
    assert.deepEqual(await appliedNames(url), ['CreateWidgets1700000000001']);
    const ledger = await sql<{ name: string }>(url, 'SELECT name FROM platform.migration_ledger');
    assert.deepEqual(
      ledger.map((r) => r.name),
      ['CreateWidgets1700000000001'],
      'a revert removes the record',
    );
  });

  it('reverts N steps, or back to a named migration', async () => {
    const url = await emptyDatabase();
    const migrations = [CreateWidgets1700000000001, SeedWidgets1700000000002, AddWidgetColor1700000000003];
    await withSource(url, migrations, (db) => db.runMigrations());
    const reverted = await withSource(url, migrations, (db) => db.revertMigrations({ steps: 2 }));
    assert.deepEqual(reverted, ['AddWidgetColor1700000000003', 'SeedWidgets1700000000002']);
    assert.deepEqual(await appliedNames(url), ['CreateWidgets1700000000001']);
    await withSource(url, migrations, (db) => db.runMigrations());
    await withSource(url, migrations, (db) => db.revertMigrations({ to: 'SeedWidgets1700000000002' }));
    assert.deepEqual(await appliedNames(url), ['CreateWidgets1700000000001', 'SeedWidgets1700000000002']);
  });

  it('gives up with a clear error when another run holds the lock too long', async () => {
    const url = await emptyDatabase();
    const holder = new Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(7318224505)');
      await assert.rejects(
        withSource(url, [CreateWidgets1700000000001], (db) => db.runMigrations(), { MIGRATION_LOCK_WAIT_MS: '300' }),
        (error: Error) => error instanceof MigrationLockTimeoutError && /held the migration lock/.test(error.message),
      );
    } finally {
      await holder.end();
    }
  });

  it('a lock session that PostgreSQL ends during the run is a clear error, not a crash', async () => {
    const url = await emptyDatabase();
    class EndLockSession1700000000009 implements MigrationInterface {
      name = 'EndLockSession1700000000009';
      async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE application_name = 'platform-api-migration-lock' AND datname = current_database()`,
        );
        // The lock's client hears of it while idle: that 'error' event once ended the process.
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      async down(): Promise<void> {}
    }
    await assert.rejects(
      withSource(url, [CreateWidgets1700000000001, EndLockSession1700000000009], (db) => db.runMigrations()),
      (error: Error) =>
        error instanceof MigrationLockLostError &&
        /lock's session ended during the run/.test(error.message) &&
        /migration:status/.test(error.message),
    );
  });

  it('does not queue behind a long transaction: the migration fails after lock_timeout and is recorded as failed', async () => {
    const url = await emptyDatabase();
    await withSource(url, [CreateWidgets1700000000001], (db) => db.runMigrations());
    const reader = new Client({ connectionString: url });
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT * FROM platform.widgets');
      const started = Date.now();
      await assert.rejects(
        withSource(url, [CreateWidgets1700000000001, AddWidgetColor1700000000003], (db) => db.runMigrations(), {
          MIGRATION_LOCK_TIMEOUT_MS: '300',
        }),
        /lock timeout/,
      );
      assert.ok(Date.now() - started < 5000);
    } finally {
      await reader.end();
    }
    const [failed] = await sql<{ success: boolean; error: string }>(
      url,
      `SELECT success, error FROM platform.migration_ledger WHERE name = 'AddWidgetColor1700000000003'`,
    );
    assert.equal(failed.success, false);
    assert.match(failed.error, /lock timeout/);
    await withSource(url, [CreateWidgets1700000000001, AddWidgetColor1700000000003], (db) => db.runMigrations());
    assert.deepEqual((await appliedNames(url)).at(-1), 'AddWidgetColor1700000000003');
  });

  it('killed in the middle of a migration, leaves nothing half-applied, and the next run succeeds', async () => {
    const url = await emptyDatabase();
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'support', 'run-fixture-migrations.js')], {
      env: { ...process.env, DATABASE_URL: url, NODE_ENV: 'test', FIXTURE_PAUSE_SECONDS: '60' },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const sleeping = async () =>
      (
        await sql(
          url,
          `SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND datname = current_database()`,
        )
      ).length > 0;
    const deadline = Date.now() + 20_000;
    while (!(await sleeping())) {
      assert.ok(Date.now() < deadline, 'the migration never reached its pause');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    await exited;
    while (await sleeping()) await new Promise((resolve) => setTimeout(resolve, 100));

    const tables = await sql<{ name: string }>(
      url,
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'platform' ORDER BY 1`,
    );
    assert.ok(!tables.some((t) => t.name.startsWith('gadget')), 'no statement of the killed migration remains');
    assert.deepEqual(await appliedNames(url), ['CreateWidgets1700000000001']);
    await withSource(url, [CreateWidgets1700000000001, CreateGadgets1700000000005], (db) => db.runMigrations());
    assert.deepEqual((await appliedNames(url)).at(-1), 'CreateGadgets1700000000005');
  });

  it('migration:status exits non-zero while migrations are pending or history disagrees, zero when up to date', async () => {
    const url = await emptyDatabase();
    const status = () =>
      run(process.execPath, [path.join(ROOT, 'scripts', 'migrations.js'), 'status'], {
        env: { ...process.env, DATABASE_URL: url, NODE_ENV: 'test' },
      }).then(
        () => 0,
        (error: { code: number }) => error.code,
      );
    assert.equal(await status(), 1);
    const app = new PlatformDataSource({ storage: loadStorageConfig({ DATABASE_URL: url, NODE_ENV: 'test' }) });
    await app.initialize();
    await app.runMigrations();
    await app.destroy();
    assert.equal(await status(), 0);
    await sql(url, `UPDATE platform.migration_ledger SET checksum = repeat('0', 64) WHERE name LIKE 'AddInvitations%'`);
    assert.equal(await status(), 1, 'an edited migration is reported');
  });

  it('/readyz answers 503 while the migration history disagrees with the code', async () => {
    const app = await startTestApp();
    try {
      const readyz = () => fetch(new URL('/readyz', app.server.url));
      assert.equal((await readyz()).status, 200);
      const [row] = await app.sql<{ checksum: string }>(
        `SELECT checksum FROM migration_ledger WHERE name LIKE 'AddInvitations%'`,
      );
      await app.sql(`UPDATE migration_ledger SET checksum = repeat('0', 64) WHERE name LIKE 'AddInvitations%'`);
      const refused = await readyz();
      assert.equal(refused.status, 503);
      assert.match(((await refused.json()) as { reason: string }).reason, /history disagrees/);
      await app.sql(`UPDATE migration_ledger SET checksum = $1 WHERE name LIKE 'AddInvitations%'`, [row.checksum]);
      assert.equal((await readyz()).status, 200);
    } finally {
      await app.close();
    }
  });
});
