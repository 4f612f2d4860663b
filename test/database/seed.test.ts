import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { createDatabase, dropDatabase } from '../support/database';

const run = promisify(execFile);
const SEED = path.join(__dirname, '..', '..', 'scripts', 'seed.js');

describe('npm run seed', () => {
  let url: string;
  const env = {
    ...process.env,
    NODE_ENV: 'development',
    AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
  before(async () => {
    url = await createDatabase({ migrated: true });
  });
  after(() => dropDatabase(url));

  async function snapshot(): Promise<unknown[]> {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const tables = ['users', 'organizations', 'user_roles', 'projects', 'credentials', 'permissions'];
      return await Promise.all(
        tables.map(
          async (t) => (await client.query<Record<string, unknown>>(`SELECT * FROM platform.${t} ORDER BY id`)).rows,
        ),
      );
    } finally {
      await client.end();
    }
  }

  it('creates the lancio demo once, and a second run changes nothing', async () => {
    await run(process.execPath, [SEED], { env: { ...env, DATABASE_URL: url } });
    const first = await snapshot();
    const [users, organizations, , projects] = first as { slug?: string; email?: string }[][];
    assert.deepEqual(
      organizations.map((o) => o.slug),
      ['lancio'],
    );
    assert.equal(users.length, 1);
    assert.equal(projects.length, 2);
    const second = await run(process.execPath, [SEED], { env: { ...env, DATABASE_URL: url } });
    assert.match(second.stdout, /nothing to do/);
    assert.deepEqual(await snapshot(), first);
  });
});
