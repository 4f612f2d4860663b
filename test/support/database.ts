import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';

function adminUrl(): string {
  const url = process.env.TEST_POSTGRES_ADMIN_URL;
  if (!url) throw new Error('Run the tests with `npm test`: it starts the PostgreSQL server they use');
  return url;
}

export function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A new database of this test file's own: migrated (a copy of the template) or empty. */
export async function createDatabase(options: { migrated: boolean }): Promise<string> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const template = process.env.TEST_TEMPLATE_DATABASE;
  await admin((client) =>
    client.query(
      options.migrated
        ? `CREATE DATABASE ${name} TEMPLATE ${client.escapeIdentifier(template as string)}`
        : `CREATE DATABASE ${name}`,
    ),
  );
  return databaseUrl(name);
}

export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await admin((client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`));
}

/** The project's migrations by class name, oldest first, as the migrations folder holds them. */
export function migrationNames(): string[] {
  const dir = path.join(__dirname, '..', '..', 'src', 'migrations');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.js'))
    .sort()
    .map((file) => {
      const [, timestamp, name] = /^(\d+)-(\w+)\.js$/.exec(file) ?? [];
      return `${name}${timestamp}`;
    });
}
