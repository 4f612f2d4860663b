import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { EntityManager } from 'typeorm';
import { PlatformDataSource } from '../../ormconfig';
import { loadStorageConfig } from '../../src/config';
import { CountingQueryLogger } from '../../src/database/query-counter';
import { runTransaction } from '../../src/database/transaction';
import { ServiceUnavailableError } from '../../src/errors';
import { createLogger } from '../../src/logger';
import { createDatabase, dropDatabase } from '../support/database';

type LogLine = Record<string, unknown> & { msg: string };

/** Makes PostgreSQL itself abort the transaction with `code`, as it does on a deadlock or serialization failure. */
async function failWith(tx: EntityManager, code: string): Promise<void> {
  await tx.query(`DO $$ BEGIN RAISE EXCEPTION 'probe' USING ERRCODE = '${code}'; END $$`);
}

describe('a transaction that PostgreSQL aborts for a deadlock or serialization failure', () => {
  let url: string;
  let db: PlatformDataSource;
  let lines: LogLine[] = [];

  before(async () => {
    url = await createDatabase({ migrated: true });
    const log = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
    db = new PlatformDataSource({
      storage: loadStorageConfig({ DATABASE_URL: url, NODE_ENV: 'test' }),
      logger: new CountingQueryLogger(log),
    });
    await db.initialize();
    await db.query('CREATE TABLE probe (id serial PRIMARY KEY, attempt int NOT NULL, note text NOT NULL)');
    await db.query('CREATE TABLE counters (id int PRIMARY KEY, value int NOT NULL)');
    await db.query('INSERT INTO counters (id, value) VALUES (1, 0), (2, 0)');
  });
  after(async () => {
    await db.destroy();
    await dropDatabase(url);
  });
  beforeEach(async () => {
    await db.query('TRUNCATE probe');
    await db.query('UPDATE counters SET value = 0');
    lines = [];
  });

  async function probeRows(): Promise<{ attempt: number }[]> {
    return db.query<{ attempt: number }[]>('SELECT attempt FROM probe ORDER BY id');
  }

  /** A unit of work that writes a row, then fails with `code` on its first `failures` attempts. */
  function flaky(code: string, failures: number) {
    const state = { attempts: 0 };
    const work = async (tx: EntityManager) => {
      state.attempts += 1;
      await tx.query('INSERT INTO probe (attempt, note) VALUES ($1, $2)', [state.attempts, 'secret-note']);
      if (state.attempts <= failures) await failWith(tx, code);
      return state.attempts;
    };
    return { state, work };
  }

  it('is run again after a deadlock and commits its writes once', async () => {
    const { state, work } = flaky('40P01', 2);
    assert.equal(await runTransaction(db, work), 3);
    assert.equal(state.attempts, 3);
    assert.deepEqual(await probeRows(), [{ attempt: 3 }], 'the failed attempts left nothing behind');
    const retries = lines.filter((line) => line.msg === 'transaction retried');
    assert.deepEqual(
      retries.map((line) => [line.level, line.code, line.attempt]),
      [
        [40, '40P01', 1],
        [40, '40P01', 2],
      ],
    );
    assert.doesNotMatch(JSON.stringify(lines), /secret-note/, 'a retry is logged without parameters');
  });

  it('is run again after a serialization failure', async () => {
    const { state, work } = flaky('40001', 1);
    assert.equal(await runTransaction(db, work), 2);
    assert.equal(state.attempts, 2);
    assert.deepEqual(await probeRows(), [{ attempt: 2 }]);
  });

  it('that keeps failing is given up after four attempts as SERVICE_UNAVAILABLE, with nothing written', async () => {
    const { state, work } = flaky('40P01', Infinity);
    await assert.rejects(runTransaction(db, work), (error: unknown) => {
      assert.ok(error instanceof ServiceUnavailableError);
      assert.equal(error.code, 'SERVICE_UNAVAILABLE');
      return true;
    });
    assert.equal(state.attempts, 4);
    assert.deepEqual(await probeRows(), []);
    assert.equal(lines.filter((line) => line.msg === 'transaction retried').length, 3);
    const [gaveUp] = lines.filter((line) => line.msg === 'transaction given up');
    assert.equal(gaveUp.code, '40P01');
    assert.equal(gaveUp.attempts, 4);
  });

  it('is not retried for any other failure', async () => {
    for (const code of ['23505', '40003', 'P0001']) {
      const { state, work } = flaky(code, Infinity);
      await assert.rejects(runTransaction(db, work));
      assert.equal(state.attempts, 1, `${code} is not retried`);
    }
    assert.deepEqual(await probeRows(), []);
    assert.deepEqual(lines, []);
  });

  it('of two that lock two rows in opposite order, both commit: the one PostgreSQL aborts runs again', async () => {
    // Each takes its first row, waits until the other holds its own, then asks for the other's.
    let arrived = 0;
    let bothHoldOne: () => void = () => undefined;
    const meeting = new Promise<void>((resolve) => (bothHoldOne = resolve));
    const attempts = [0, 0];
    const increment = (index: number, first: number, second: number) => async (tx: EntityManager) => {
      attempts[index] += 1;
      await tx.query("SET LOCAL deadlock_timeout = '100ms'");
      await tx.query('UPDATE counters SET value = value + 1 WHERE id = $1', [first]);
      if (attempts[index] === 1) {
        arrived += 1;
        if (arrived === 2) bothHoldOne();
        await meeting;
      }
      await tx.query('UPDATE counters SET value = value + 1 WHERE id = $1', [second]);
    };
    await Promise.all([runTransaction(db, increment(0, 1, 2)), runTransaction(db, increment(1, 2, 1))]);
    assert.deepEqual(await db.query('SELECT id, value FROM counters ORDER BY id'), [
      { id: 1, value: 2 },
      { id: 2, value: 2 },
    ]);
    assert.deepEqual([...attempts].sort(), [1, 2], 'one of them ran twice');
    const retries = lines.filter((line) => line.msg === 'transaction retried');
    assert.deepEqual(
      retries.map((line) => line.code),
      ['40P01'],
    );
  });
});
