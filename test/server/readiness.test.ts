import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/server';

type LogLine = Record<string, unknown> & { msg: string };

/** A pino destination that keeps every line, as written. */
function logSink() {
  const lines: string[] = [];
  return {
    parsed: () => lines.map((line) => JSON.parse(line) as LogLine),
    destination: { write: (line: string) => void lines.push(line) },
  };
}

interface Probe {
  status: number;
  body: { status: string; reason?: string; newerMigrations?: string[] };
}

async function readyz(app: TestApp): Promise<Probe> {
  const response = await fetch(new URL('/readyz', app.server.url));
  return { status: response.status, body: (await response.json()) as Probe['body'] };
}

/** A migration another release applied: its history row and its ledger row, as that release's run writes them. */
async function applyForeignMigration(app: TestApp, name: string): Promise<void> {
  await app.sql('INSERT INTO migrations ("timestamp", name) VALUES ($1, $2)', [Number(name.slice(-13)), name]);
  await app.sql(
    `INSERT INTO migration_ledger (name, checksum, started_at, duration_ms, success) VALUES ($1, $2, now(), 5, true)`,
    [name, 'a'.repeat(64)],
  );
}

async function forgetMigration(app: TestApp, name: string): Promise<void> {
  await app.sql('DELETE FROM migrations WHERE name = $1', [name]);
  await app.sql('DELETE FROM migration_ledger WHERE name = $1', [name]);
}

describe('readiness across releases', () => {
  let app: TestApp;
  const logs = logSink();
  let newest: string;
  before(async () => {
    app = await startTestApp({ LOG_LEVEL: 'warn' }, { logDestination: logs.destination });
    const [row] = await app.sql<{ name: string }>('SELECT name FROM migrations ORDER BY "timestamp" DESC LIMIT 1');
    newest = row.name;
  });
  after(() => app.close());

  it('a migration newer than the code, applied by a newer release, leaves the old replica ready, and it says so', async () => {
    const newer = 'AddRolloutThing9999999999999';
    await applyForeignMigration(app, newer);
    try {
      const probe = await readyz(app);
      assert.equal(probe.status, 200, JSON.stringify(probe.body));
      assert.equal(probe.body.status, 'ready');
      assert.deepEqual(probe.body.newerMigrations, [newer]);
      assert.match(probe.body.reason ?? '', /newer than this code: a newer release is rolling out/);
      await readyz(app);
      const said = logs.parsed().filter((line) => /a newer release is rolling out/.test(line.msg));
      assert.equal(said.length, 1, 'logged once, not on every probe');
      assert.deepEqual(said[0].newerMigrations, [newer]);
      const served = await app.gql('{ __typename }');
      assert.deepEqual(served.data, { __typename: 'Query' });
    } finally {
      await forgetMigration(app, newer);
    }
    assert.deepEqual((await readyz(app)).body, { status: 'ready' });
  });

  it('an applied migration unknown to the code and older than its newest is a deleted one: not ready', async () => {
    const deleted = `DropSomething${Number(newest.slice(-13)) - 1}`;
    await applyForeignMigration(app, deleted);
    try {
      assert.deepEqual(await readyz(app), {
        status: 503,
        body: { status: 'unavailable', reason: 'migration history disagrees with the code' },
      });
    } finally {
      await forgetMigration(app, deleted);
    }
  });

  it('an edited migration is not ready, even while a newer release is rolling out', async () => {
    const newer = 'AddRolloutThing9999999999998';
    await applyForeignMigration(app, newer);
    const [{ checksum }] = await app.sql<{ checksum: string }>(
      'SELECT checksum FROM migration_ledger WHERE name = $1',
      [newest],
    );
    await app.sql('UPDATE migration_ledger SET checksum = $2 WHERE name = $1', [newest, 'b'.repeat(64)]);
    try {
      const probe = await readyz(app);
      assert.equal(probe.status, 503);
      assert.equal(probe.body.reason, 'migration history disagrees with the code');
    } finally {
      await app.sql('UPDATE migration_ledger SET checksum = $2 WHERE name = $1', [newest, checksum]);
      await forgetMigration(app, newer);
    }
  });

  it('a migration the code knows but the database has not applied is not ready', async () => {
    const [history] = await app.sql<{ timestamp: string }>('SELECT "timestamp" FROM migrations WHERE name = $1', [
      newest,
    ]);
    await app.sql('DELETE FROM migrations WHERE name = $1', [newest]);
    try {
      assert.deepEqual(await readyz(app), {
        status: 503,
        body: { status: 'unavailable', reason: 'migrations pending' },
      });
    } finally {
      await app.sql('INSERT INTO migrations ("timestamp", name) VALUES ($1, $2)', [history.timestamp, newest]);
    }
    assert.equal((await readyz(app)).status, 200);
  });
});
