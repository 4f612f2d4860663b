import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import ts from 'typescript';
import type { MigrationInterface } from 'typeorm';
import { Client } from 'pg';
import { PlatformDataSource } from '../../ormconfig';
import { loadStorageConfig } from '../../src/config';
import { canonicalSql, compiledClassChecksum, migrationChecksum } from '../../src/database/migration-checksum';
import { createDatabase, dropDatabase } from '../support/database';
import { CreateWidgets1700000000001, SeedWidgets1700000000002 } from '../support/fixture-migrations';

const SOURCE = path.join(__dirname, '..', '..', '..', 'src', 'migrations', '1795240153185-AddInvitations.ts');

/** The migration's source compiled as a build with that target would, loaded as a module of its own. */
function compiled(source: string, target: ts.ScriptTarget): MigrationInterface {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { target, module: ts.ModuleKind.CommonJS, experimentalDecorators: true },
  });
  const filename = path.join(path.dirname(SOURCE), `compiled-${target}.js`);
  const loaded = new Module(filename) as Module & { _compile(code: string, file: string): void };
  loaded.filename = filename;
  loaded.paths = module.paths;
  loaded._compile(outputText, filename);
  const exported = loaded.exports as Record<string, new () => MigrationInterface>;
  return new exported.AddInvitations1795240153185();
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

/** What the ledger looked like before SQL checksums: no scheme, stamped, dirty or forced columns. */
async function downgradeLedger(url: string, checksums: Record<string, string>): Promise<void> {
  await sql(
    url,
    `ALTER TABLE platform.migration_ledger DROP COLUMN checksum_scheme, DROP COLUMN stamped,
       DROP COLUMN dirty, DROP COLUMN forced_at`,
  );
  for (const [name, checksum] of Object.entries(checksums)) {
    await sql(url, 'UPDATE platform.migration_ledger SET checksum = $2 WHERE name = $1', [name, checksum]);
  }
}

describe('migration checksums', () => {
  const source = readFileSync(SOURCE, 'utf8');
  const databases: string[] = [];
  after(async () => {
    for (const url of databases) await dropDatabase(url);
  });

  it('do not change when the compiler target does, as the compiled class did', async () => {
    const es2017 = compiled(source, ts.ScriptTarget.ES2017);
    const es2022 = compiled(source, ts.ScriptTarget.ES2022);
    assert.notEqual(compiledClassChecksum(es2017), compiledClassChecksum(es2022), 'the old checksum moved');
    assert.equal(await migrationChecksum(es2017), await migrationChecksum(es2022));
  });

  it('do not change when the SQL is laid out differently', async () => {
    const relaid = source
      .replace(/", "/g, '",\n        "')
      .replace('CREATE TABLE "invitations" (', 'CREATE TABLE "invitations"  ( ');
    assert.notEqual(relaid, source);
    const target = ts.ScriptTarget.ES2022;
    assert.equal(await migrationChecksum(compiled(relaid, target)), await migrationChecksum(compiled(source, target)));
  });

  it('change when the SQL that up() or down() runs changes', async () => {
    const target = ts.ScriptTarget.ES2022;
    const before = await migrationChecksum(compiled(source, target));
    const wider = source.replace('"email" character varying(320)', '"email" character varying(400)');
    const keepsIndex = source.replace('DROP INDEX "platform"."IDX_invitations_invited_by_id"', 'SELECT 1');
    assert.notEqual(await migrationChecksum(compiled(wider, target)), before);
    assert.notEqual(await migrationChecksum(compiled(keepsIndex, target)), before);
  });

  it('keep quoted text exactly: only the layout outside quotes is made canonical', () => {
    assert.equal(canonicalSql(`SELECT  'a  b' , "x" -- note\n FROM t ;`), `SELECT 'a  b',"x" FROM t`);
    assert.notEqual(canonicalSql(`SELECT 'a  b'`), canonicalSql(`SELECT 'a b'`));
    assert.equal(canonicalSql('SELECT $x$ keep  this $x$'), 'SELECT $x$ keep  this $x$');
  });

  it('an old ledger is upgraded in place where its checksum matches the migration as built, and reported where not', async () => {
    const url = await createDatabase({ migrated: false });
    databases.push(url);
    const migrations = [CreateWidgets1700000000001, SeedWidgets1700000000002];
    const source = new PlatformDataSource({
      storage: loadStorageConfig({ DATABASE_URL: url, NODE_ENV: 'test' }),
      migrations,
    });
    await source.initialize();
    try {
      await source.runMigrations();
      const [widgets, seed] = source.migrations;
      await downgradeLedger(url, {
        CreateWidgets1700000000001: compiledClassChecksum(widgets),
        SeedWidgets1700000000002: 'ab'.repeat(32),
      });
      const status = await source.migrationStatus();
      assert.deepEqual(status.pending, []);
      assert.equal(status.problems.length, 1, status.problems.join('\n'));
      assert.match(status.problems[0], /SeedWidgets1700000000002 was edited, or built with another TypeScript/);

      await sql(url, 'UPDATE platform.migration_ledger SET checksum = $1 WHERE name = $2', [
        compiledClassChecksum(seed),
        'SeedWidgets1700000000002',
      ]);
      assert.deepEqual((await source.migrationStatus()).problems, [], 'the old scheme still verifies, read-only');
      await source.runMigrations();
      const ledger = await sql<{ name: string; checksum: string; checksum_scheme: number }>(
        url,
        'SELECT name, checksum, checksum_scheme FROM platform.migration_ledger ORDER BY name',
      );
      assert.deepEqual(ledger, [
        { name: 'CreateWidgets1700000000001', checksum: await migrationChecksum(widgets), checksum_scheme: 2 },
        { name: 'SeedWidgets1700000000002', checksum: await migrationChecksum(seed), checksum_scheme: 2 },
      ]);
    } finally {
      await source.destroy();
    }
  });
});
