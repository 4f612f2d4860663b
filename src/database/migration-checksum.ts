import { createHash } from 'node:crypto';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** One statement a migration issues: its SQL and its parameters. */
export interface RecordedStatement {
  sql: string;
  params: unknown[];
}

export interface RecordedMigration {
  transaction: boolean;
  up: RecordedStatement[];
  down: RecordedStatement[];
}

const ORIGINAL = Symbol('original up and down');

type Steps = Pick<MigrationInterface, 'up' | 'down'>;

/**
 * The runner wraps `up` and `down` to time and record them (migration-runner.ts): what they are
 * wrapped around is kept here, so that a checksum always records the migration's own statements.
 */
export function keepOriginalSteps(instance: MigrationInterface): Steps {
  const holder = instance as MigrationInterface & { [ORIGINAL]?: Steps };
  holder[ORIGINAL] ??= { up: instance.up.bind(instance), down: instance.down.bind(instance) };
  return holder[ORIGINAL];
}

/**
 * A query runner that only records: every `query()` is kept and answers no rows. Anything else a
 * migration asks of it is refused, naming it, because its SQL would escape the checksum and the lint.
 */
export function recordingQueryRunner(statements: RecordedStatement[], transactional: boolean): QueryRunner {
  const recorder = {
    isTransactionActive: transactional,
    query: (sql: string, params?: unknown[]) => {
      statements.push({ sql, params: params ?? [] });
      return Promise.resolve([]);
    },
  };
  return new Proxy(recorder, {
    get(target, property) {
      if (property in target) return target[property as keyof typeof target];
      if (typeof property === 'symbol' || property === 'then') return undefined;
      throw new Error(
        `queryRunner.${property} is not supported in migrations: write the SQL with queryRunner.query(), ` +
          'so that its checksum and squawk see every statement',
      );
    },
  }) as unknown as QueryRunner;
}

/** The statements `up()` and `down()` issue, run against a recording query runner. */
export async function recordMigration(instance: MigrationInterface): Promise<RecordedMigration> {
  const steps = keepOriginalSteps(instance);
  const transaction = (instance as { transaction?: boolean }).transaction !== false;
  const up: RecordedStatement[] = [];
  const down: RecordedStatement[] = [];
  await steps.up(recordingQueryRunner(up, transaction));
  await steps.down(recordingQueryRunner(down, transaction));
  return { transaction, up, down };
}

/**
 * SQL with its comments removed and its layout made canonical: runs of whitespace become one
 * space, none is kept next to `(`, `)`, `,` or `;`, and a final `;` goes. Quoted text
 * ('…', "…", $tag$…$tag$) is kept exactly as written: a change there is a change of what runs.
 */
export function canonicalSql(sql: string): string {
  let out = '';
  let plain = '';
  let i = 0;
  while (i < sql.length) {
    const quoted = quotedAt(sql, i);
    if (quoted) {
      out += canonicalLayout(plain) + sql.slice(i, quoted);
      plain = '';
      i = quoted;
    } else if (sql.startsWith('--', i) || sql.startsWith('/*', i)) {
      const line = sql.startsWith('--', i);
      const end = sql.indexOf(line ? '\n' : '*/', i + 2);
      i = end < 0 ? sql.length : end + (line ? 0 : 2);
      plain += ' ';
    } else {
      plain += sql[i];
      i += 1;
    }
  }
  return (out + canonicalLayout(plain)).trim().replace(/;$/, '');
}

function canonicalLayout(plain: string): string {
  return plain.replace(/\s+/g, ' ').replace(/ ?([(),;]) ?/g, '$1');
}

/** Where the quoted run that starts at `i` ends (just after its closing quote), or 0 when none starts there. */
function quotedAt(sql: string, i: number): number {
  const char = sql[i];
  if (char === "'" || char === '"') {
    let end = i + 1;
    for (;;) {
      end = sql.indexOf(char, end);
      if (end < 0) return sql.length;
      if (sql[end + 1] !== char) return end + 1;
      end += 2;
    }
  }
  const tag = char === '$' ? /^\$[A-Za-z_]?[A-Za-z0-9_]*\$/.exec(sql.slice(i))?.[0] : undefined;
  if (!tag) return 0;
  const close = sql.indexOf(tag, i + tag.length);
  return close < 0 ? sql.length : close + tag.length;
}

const checksums = new WeakMap<MigrationInterface, Promise<string>>();

/**
 * The SHA-256 of what the migration runs: the canonical SQL and parameters of every statement
 * its `up()` and `down()` issue, and whether it runs in a transaction. The TypeScript version,
 * the compile target and the file's formatting do not change it; a change to the SQL does.
 */
export function migrationChecksum(instance: MigrationInterface): Promise<string> {
  let checksum = checksums.get(instance);
  if (!checksum) {
    checksum = recordMigration(instance).then((recorded) => {
      const canonical = (statements: RecordedStatement[]) =>
        statements.map((s) => ({ sql: canonicalSql(s.sql), params: s.params }));
      const text = JSON.stringify({
        transaction: recorded.transaction,
        up: canonical(recorded.up),
        down: canonical(recorded.down),
      });
      return createHash('sha256').update(text).digest('hex');
    });
    checksums.set(instance, checksum);
  }
  return checksum;
}

/**
 * The checksum ledgers recorded before SQL checksums: the SHA-256 of the class as compiled,
 * which a new TypeScript version or target changes. Kept only to upgrade those ledgers in place.
 */
export function compiledClassChecksum(instance: MigrationInterface): string {
  return createHash('sha256').update(String(instance.constructor)).digest('hex');
}
