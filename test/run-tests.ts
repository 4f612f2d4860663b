/**
 * `npm test`: one throwaway embedded PostgreSQL for the whole run. The migrations are applied
 * once to a template database; each test file clones its own database from it (CREATE DATABASE
 * … TEMPLATE), so files share no data and run in parallel.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PlatformDataSource } from '../ormconfig';
import { loadJobsConfig, loadStorageConfig } from '../src/config';
import { jobQueueFor } from '../src/jobs/workers';
import { createLogger } from '../src/logger';
import { ensureDatabase } from '../src/database/ensure-database';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { freePort } from './support/ports';

export const TEMPLATE_DATABASE = 'platform_template';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.js'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

async function main(): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'platform-api-test-'));
  const postgres = await startEmbeddedPostgres({ dir, port: await freePort(), throwaway: true });
  try {
    await ensureDatabase(postgres.adminUrl, TEMPLATE_DATABASE);
    const template = new PlatformDataSource({
      storage: loadStorageConfig({ DATABASE_URL: postgres.urlFor(TEMPLATE_DATABASE), NODE_ENV: 'test' }),
    });
    await template.initialize();
    await template.runMigrations({ transaction: 'each' });
    // pg-boss's own schema, installed once here so that every test database cloned from the template has it.
    const queue = jobQueueFor(template, loadJobsConfig({}), createLogger('silent'), false);
    await queue.start();
    await queue.stop();
    await template.destroy();

    const only = process.argv.slice(2);
    const files = only.length ? only.map((f) => path.resolve(f)) : testFiles(__dirname);
    const child = spawn(
      process.execPath,
      ['--require', 'reflect-metadata', '--test', '--test-concurrency=2', ...files],
      {
        stdio: 'inherit',
        env: {
          ...process.env,
          NODE_ENV: 'test',
          TEST_POSTGRES_ADMIN_URL: postgres.adminUrl,
          TEST_TEMPLATE_DATABASE: TEMPLATE_DATABASE,
        },
      },
    );
    return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
