import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MigrationInterface } from 'typeorm';
import { recordMigration } from '../src/database/migration-checksum';

/**
 * `npm run lint:migrations`: the SQL each migration's up() executes, linted by squawk.
 *
 * Migrations that only create tables from nothing are exempt from the rules that protect
 * existing rows and running queries (NOT VALID foreign keys, concurrent indexes, …): there is
 * nothing to lock or rewrite yet. A migration that needs an exemption of its own declares
 * `static squawkIgnore = { 'rule-name': 'why it is safe here' }`, and the reason is printed.
 */

/** Rules that only matter for tables that already hold data. */
const NEW_TABLE_EXEMPT = [
  'require-concurrent-index-creation',
  'constraint-missing-not-valid',
  'adding-foreign-key-constraint',
  'disallowed-unique-constraint',
];

/** Rules this project does not follow, and why. */
const ALWAYS_EXCLUDED: Record<string, string> = {
  'prefer-text-field': 'varchar(n) limits are part of the contract and only ever widened',
  'ban-char-field': 'char(n) holds fixed-length codes (refs, currencies, last4, hashes), each CHECK-constrained',
  'prefer-bigint-over-int': 'uuid keys; integer columns are bounded counts and amounts',
  'prefer-identity': "uuid keys; the history table is TypeORM's",
  'prefer-robust-stmts': 'each migration runs once, in a transaction, under the migration lock',
  'require-statement-timeout':
    'backfills may run long by design; what must not happen, waiting on locks, is bounded by the lock_timeout the runner sets',
};

type MigrationClass = (new () => MigrationInterface) & { squawkIgnore?: Record<string, string> };

/** The SQL up() issues, recorded as for its checksum (src/database/migration-checksum.ts). */
async function capture(migration: MigrationInterface): Promise<string[]> {
  const { up } = await recordMigration(migration);
  // What the runner sets before every migration (src/database/migration-runner.ts).
  return [`SET LOCAL lock_timeout = '5s';`, ...up.map((s) => s.sql.trim().replace(/;?\s*$/, ';'))];
}

function createsOnlyNewTables(statements: string[]): boolean {
  const created = new Set<string>();
  for (const sql of statements) {
    const table = /^CREATE TABLE "([^"]+)"/i.exec(sql)?.[1];
    if (table) created.add(table);
  }
  return statements.every((sql) => {
    const target = /^(?:ALTER TABLE|CREATE (?:UNIQUE )?INDEX "[^"]+" ON) "([^"]+)"/i.exec(sql)?.[1];
    return target === undefined || created.has(target);
  });
}

/**
 * squawk's own npm wrapper pulls every platform's binary package, which not every registry
 * serves; the project depends on the Linux x64 binary directly (an optional dependency).
 */
function squawkBinary(): string {
  const platformPackage = `@squawk-cli/${process.platform}-${process.arch}`;
  try {
    return path.join(path.dirname(require.resolve(`${platformPackage}/package.json`)), 'bin', 'squawk');
  } catch {
    throw new Error(`No squawk binary for this machine: npm install --no-save ${platformPackage}@2.66.0`);
  }
}

async function main(): Promise<number> {
  // From the sources under ts-node (`npm run lint:migrations`), or from dist/ after a build.
  const dir = path.join(__dirname, '..', 'src', 'migrations');
  const out = mkdtempSync(path.join(tmpdir(), 'squawk-'));
  const squawk = squawkBinary();
  let failed = false;
  for (const [rule, reason] of Object.entries(ALWAYS_EXCLUDED)) console.log(`not checked: ${rule}: ${reason}`);
  try {
    const files = readdirSync(dir).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'));
    for (const file of files.sort()) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loads .ts under ts-node as well as .js
      const exported = require(path.join(dir, file)) as Record<string, MigrationClass>;
      const classes = Object.values(exported).filter((value) => typeof value === 'function');
      for (const Migration of classes) {
        const statements = await capture(new Migration());
        const sqlFile = path.join(out, `${Migration.name}.sql`);
        writeFileSync(sqlFile, `${statements.join('\n')}\n`);
        const ignored = Object.entries(Migration.squawkIgnore ?? {});
        const exempt = createsOnlyNewTables(statements) ? NEW_TABLE_EXEMPT : [];
        for (const [rule, reason] of ignored) console.log(`${Migration.name}: squawk-ignore ${rule}: ${reason}`);
        const excluded = [...Object.keys(ALWAYS_EXCLUDED), ...exempt, ...ignored.map(([rule]) => rule)];
        try {
          execFileSync(squawk, ['--exclude', excluded.join(','), '--assume-in-transaction', sqlFile], {
            stdio: 'inherit',
            env: { ...process.env, NO_COLOR: '1' },
          });
          console.log(`${Migration.name}: ok${exempt.length ? ' (creates new tables only)' : ''}`);
        } catch {
          failed = true;
        }
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
