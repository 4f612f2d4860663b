import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PlatformDataSource } from '../../ormconfig';
import { loadStorageConfig } from '../../src/config';
import { MigrationHistoryError } from '../../src/database/migration-ledger';
import { checkReadiness as readiness } from '../../src/server/readiness';
import { createDatabase, dropDatabase } from '../support/database';
import { CreateWidgets1700000000001 } from '../support/fixture-migrations';

const SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'migrations.js');

/** The project's migrations by class name, oldest first (`<timestamp>-<Name>.js` holds `<Name><timestamp>`). */
const MIGRATIONS = readdirSync(path.join(__dirname, '..', '..', 'src', 'migrations'))
  .filter((file) => file.endsWith('.js'))
  .sort()
  .map((file) => {
    const [timestamp, name] = path.basename(file, '.js').split('-');
    return `${name}${timestamp}`;
  });

async function sql<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** `npm run migration:<command> -- <args>` against `url`, with its exit code and output. */
async function migration(url: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, DATABASE_URL: url, NODE_ENV: 'test' };
  return promisify(execFile)(process.execPath, [SCRIPT, ...args], { env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

const applied = async (url: string) =>
  (await sql<{ name: string }>(url, 'SELECT name FROM platform.migrations ORDER BY id')).map((r) => r.name);

/** Non-transactional, and fails after its first statement: it leaves an index behind. */
class IndexThenFail1700000000007 implements MigrationInterface {
  transaction = false as const;
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE INDEX CONCURRENTLY "IDX_widgets_label" ON widgets (label)');
    await runner.query('SELECT 1 / 0');
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS "IDX_widgets_label"');
  }
}

/** Transactional, and fails: PostgreSQL rolls it back whole. */
class FailInTransaction1700000000008 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE sprockets (id int)');
    await runner.query('SELECT 1 / 0');
  }
  async down(): Promise<void> {}
}

async function withSource<T>(
  url: string,
  migrations: (new () => MigrationInterface)[],
  work: (db: PlatformDataSource) => Promise<T>,
) {
  const db = new PlatformDataSource({
    storage: loadStorageConfig({ DATABASE_URL: url, NODE_ENV: 'test' }),
    migrations,
  });
  await db.initialize();
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

describe('the migration CLI', () => {
  const databases: string[] = [];
  const emptyDatabase = async () => {
    const url = await createDatabase({ migrated: false });
    databases.push(url);
    return url;
  };
  after(async () => {
    for (const url of databases) await dropDatabase(url);
  });

  it('migration:up applies only N steps, or up to a named migration, and status lists the rest as pending', async () => {
    const url = await emptyDatabase();
    const two = await migration(url, 'up', '--steps', '2');
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual(await applied(url), ['CreatePlatformSchema1795240120694', 'AddBilling1795240136909']);
    assert.equal((await migration(url, 'up', '--to', 'AddInvitations1795240153185')).code, 0);
    assert.equal((await applied(url)).at(-1), 'AddInvitations1795240153185');
    const status = await migration(url, 'status', '--json');
    assert.equal(status.code, 1, 'not up to date while one is pending');
    const json = JSON.parse(status.stdout) as { upToDate: boolean; pending: string[]; records: { state: string }[] };
    assert.equal(json.upToDate, false);
    assert.deepEqual(json.pending, MIGRATIONS.slice(4));
    assert.equal(json.pending[0], 'AddBillingRules1795241575777');
    assert.deepEqual(
      json.records.map((r) => r.state),
      MIGRATIONS.map((_, i) => (i < 4 ? 'applied' : 'pending')),
    );
  });

  it('migration:status lists every applied migration with when it ran, how long it took and its checksum', async () => {
    const url = await emptyDatabase();
    await migration(url, 'up', '--steps', String(MIGRATIONS.length));
    const status = await migration(url, 'status');
    assert.equal(status.code, 0);
    assert.match(
      status.stdout,
      /applied\s+CreatePlatformSchema1795240120694\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+\d+ ms\s+[0-9a-f]{12}/,
    );
    assert.match(status.stdout, /Up to date\./);
  });

  it('migration:stamp records migrations as applied without running them, and is refused when later ones are applied', async () => {
    const url = await emptyDatabase();
    await migration(url, 'up', '--steps', String(MIGRATIONS.length));
    // A schema built by other means: the tables exist, the history does not.
    await sql(url, 'DROP TABLE platform.migrations, platform.migration_ledger');
    const stamped = await migration(url, 'stamp', '--to', MIGRATIONS[MIGRATIONS.length - 1]);
    assert.equal(stamped.code, 0, stamped.stderr);
    const ledger = await sql<{ stamped: boolean }>(url, 'SELECT stamped FROM platform.migration_ledger');
    assert.equal(ledger.length, MIGRATIONS.length);
    assert.ok(ledger.every((row) => row.stamped));
    const status = await migration(url, 'status');
    assert.equal(status.code, 0);
    assert.match(status.stdout, /stamped\s+AddInvitations1795240153185/);
    const refused = await migration(url, 'stamp', '--to', 'AddBilling1795240136909');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /later migrations are already applied \(AddUsersRolesPermissions1795240145301/);
  });

  it('wrong arguments exit 2 with the usage, before touching the database', async () => {
    const url = 'postgres://nobody@127.0.0.1:1/none';
    for (const args of [['up', '--steps', '0'], ['up'], ['force', 'X'], ['stamp'], ['dance']]) {
      const result = await migration(url, ...args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, /Usage/);
    }
  });

  it('a failed transactional migration changed nothing, is not dirty, and can simply run again', async () => {
    const url = await emptyDatabase();
    await assert.rejects(
      withSource(url, [FailInTransaction1700000000008], (db) => db.runMigrations()),
      /division by zero/,
    );
    const status = await withSource(url, [FailInTransaction1700000000008], (db) => db.migrationStatus());
    assert.deepEqual(status.dirty, []);
    assert.deepEqual(status.problems, []);
    assert.deepEqual(
      status.records.map((r) => r.state),
      ['failed'],
    );
    const tables = await sql(url, `SELECT 1 FROM information_schema.tables WHERE table_name = 'sprockets'`);
    assert.deepEqual(tables, []);
  });

  it('a failed non-transactional migration leaves the database dirty: status shows it, readiness fails, runs are refused until forced', async () => {
    const url = await emptyDatabase();
    const migrations = [CreateWidgets1700000000001, IndexThenFail1700000000007];
    await assert.rejects(
      withSource(url, migrations, (db) => db.runMigrations()),
      /division by zero/,
    );
    await withSource(url, migrations, async (db) => {
      const status = await db.migrationStatus();
      assert.deepEqual(status.dirty, ['IndexThenFail1700000000007']);
      assert.match(
        status.problems[0],
        /IndexThenFail1700000000007 is dirty: .*migration:force -- IndexThenFail1700000000007 --applied/,
      );
      assert.equal((await readiness(db)).ok, false);
      await assert.rejects(
        db.runMigrations(),
        (error: Error) => error instanceof MigrationHistoryError && /dirty/.test(error.message),
      );
      await assert.rejects(db.revertMigrations({ steps: 1 }), /dirty/);

      // The operator finds the index was built, drops it by hand, and says so.
      await sql(url, 'DROP INDEX platform."IDX_widgets_label"');
      await db.forceMigration('IndexThenFail1700000000007', false);
      const forced = await db.migrationStatus();
      assert.deepEqual([forced.dirty, forced.problems, forced.pending], [[], [], ['IndexThenFail1700000000007']]);
      assert.equal((await readiness(db)).ok, false, 'still pending');
    });
  });

  it('migration:force --applied records a dirty migration as applied, with the time it was forced', async () => {
    const url = await emptyDatabase();
    const migrations = [CreateWidgets1700000000001, IndexThenFail1700000000007];
    await assert.rejects(
      withSource(url, migrations, (db) => db.runMigrations()),
      /division by zero/,
    );
    await withSource(url, migrations, async (db) => {
      await db.forceMigration('IndexThenFail1700000000007', true);
      const status = await db.migrationStatus();
      assert.deepEqual([status.dirty, status.problems, status.pending], [[], [], []]);
      assert.ok(status.records.at(-1)?.forcedAt instanceof Date);
      assert.deepEqual(await readiness(db), { ok: true });
    });
  });
});
