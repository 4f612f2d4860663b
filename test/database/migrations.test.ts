import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PlatformDataSource } from '../../ormconfig';
import { loadStorageConfig } from '../../src/config';
import { createDatabase, dropDatabase } from '../support/database';
import { dumpSchema } from '../support/schema-dump';

const TYPEORM_HASH_NAME = /^(PK|FK|UQ|IDX|REL|CHK)_[0-9a-f]{20,}$/;

async function tables(db: PlatformDataSource): Promise<string[]> {
  const rows: { table_name: string }[] = await db.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'platform' ORDER BY 1`,
  );
  return rows.map((r) => r.table_name);
}

describe('the migrations', () => {
  let url: string;
  let db: PlatformDataSource;
  before(async () => {
    url = await createDatabase({ migrated: false });
    db = new PlatformDataSource({ storage: loadStorageConfig({ DATABASE_URL: url, NODE_ENV: 'test' }) });
    await db.initialize();
  });
  after(async () => {
    await db.destroy();
    await dropDatabase(url);
  });

  it('go up from an empty database, match the entities, go down one by one to nothing, and up again to the same schema', async () => {
    const applied = await db.runMigrations({ transaction: 'each' });
    assert.ok(applied.length >= 4);
    assert.equal(await db.showMigrations(), false, 'nothing pending');

    const drift = await db.driver.createSchemaBuilder().log();
    assert.deepEqual(
      drift.upQueries.map((q) => q.query),
      [],
      'the entities and the migrated schema agree (migration:generate --check)',
    );
    const first = await dumpSchema(db);

    for (let i = 0; i < applied.length; i += 1) await db.undoLastMigration({ transaction: 'each' });
    assert.deepEqual(await tables(db), ['migration_ledger', 'migrations'], 'every down() undoes its up()');

    await db.runMigrations({ transaction: 'each' });
    assert.equal(await dumpSchema(db), first);
  });

  it('names every constraint and index itself, never with a TypeORM hash', async () => {
    const names: { name: string }[] = await db.query(
      `SELECT conname AS name FROM pg_constraint WHERE connamespace = 'platform'::regnamespace
       UNION ALL SELECT indexname FROM pg_indexes WHERE schemaname = 'platform'`,
    );
    assert.ok(names.length > 20);
    assert.deepEqual(
      names.filter((n) => TYPEORM_HASH_NAME.test(n.name) && n.name !== 'PK_migrations'),
      [],
    );
  });

  it('gives every foreign key an index and an explicit ON DELETE rule', async () => {
    const keys: { conname: string; indexed: boolean; on_delete: string }[] = await db.query(
      `SELECT c.conname, c.confdeltype AS on_delete,
              EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1]) AS indexed
       FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = 'platform'::regnamespace`,
    );
    assert.ok(keys.length >= 10);
    assert.deepEqual(
      keys.filter((k) => !k.indexed).map((k) => k.conname),
      [],
      'foreign keys without an index',
    );
    assert.deepEqual(
      keys.filter((k) => k.on_delete === 'a').map((k) => k.conname),
      [],
      'foreign keys left at NO ACTION',
    );
  });
});
