import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PlatformDataSource } from '../../ormconfig';
import { loadStorageConfig } from '../../src/config';
import { createDatabase, dropDatabase } from '../support/database';

const MIGRATION = 'AddBillingRules1795241575777';

describe('the AddBillingRules migration', () => {
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

  async function applied(): Promise<string[]> {
    const rows: { name: string }[] = await db.query('SELECT name FROM migrations ORDER BY id');
    return rows.map((row) => row.name);
  }

  it('inserts the plan catalog and starts every existing organization on free; down() takes both away', async () => {
    await db.runMigrations({ transaction: 'each' });
    // Back to just before it, whatever came after it.
    while ((await applied()).includes(MIGRATION)) await db.undoLastMigration({ transaction: 'each' });
    assert.deepEqual(await db.query('SELECT code FROM plans'), [], 'down() removes the catalog');

    const [organization] = await db.query<{ id: string }[]>(
      `INSERT INTO organizations (name, slug) VALUES ('Existing', 'existing') RETURNING id`,
    );
    await db.runMigrations({ transaction: 'each' });

    const plans: { code: string; price_cents: number; max_projects: number | null }[] = await db.query(
      'SELECT code, price_cents, max_projects FROM plans ORDER BY price_cents',
    );
    assert.deepEqual(
      plans.map((plan) => [plan.code, plan.price_cents, plan.max_projects]),
      [
        ['free', 0, 2],
        ['pro', 2500, 10],
        ['team', 59900, 50],
        ['enterprise', 249900, null],
      ],
    );
    const subscriptions: { code: string; status: string; current_period_end: Date }[] = await db.query(
      `SELECT p.code, s.status, s.current_period_end FROM subscriptions s JOIN plans p ON p.id = s.plan_id
       WHERE s.organization_id = $1`,
      [organization.id],
    );
    assert.equal(subscriptions.length, 1);
    assert.equal(subscriptions[0].code, 'free');
    assert.equal(subscriptions[0].status, 'active');
    const end = subscriptions[0].current_period_end;
    assert.equal(end.getUTCDate(), 1, 'the period ends on the first of a month');
    assert.equal(end.getUTCHours() + end.getUTCMinutes() + end.getUTCSeconds() + end.getUTCMilliseconds(), 0);
    assert.ok(end > new Date() && end.getTime() - Date.now() <= 31 * 24 * 60 * 60 * 1000);

    while ((await applied()).includes(MIGRATION)) await db.undoLastMigration({ transaction: 'each' });
    assert.deepEqual(await db.query('SELECT id FROM subscriptions'), []);
    assert.deepEqual(await db.query('SELECT id FROM plans'), []);
  });
});
