import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DAY_MS, given, ok, runScheduledJobs, type TestOrganization, type TestUser } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

/** An audit command against the app's database, as an operator runs it: its exit code, stdout and stderr. */
async function command(app: TestApp, name: string, args: string[]) {
  const script = path.join(__dirname, '..', '..', 'scripts', `${name}.js`);
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: app.databaseUrl, LOG_LEVEL: 'silent' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number>((resolve) => child.on('exit', (exit) => resolve(exit ?? 1)));
  return { code, stdout, stderr };
}

const RENAME = 'mutation ($ref: String!, $name: String!) { updateProject(ref: $ref, input: { name: $name }) { name } }';

describe('tamper evidence: each organization’s events form a hash chain', () => {
  let app: TestApp;
  let owner: TestUser;

  before(async () => {
    app = await startTestApp({ BILLING_ENABLED: 'false', JOBS_WORKERS: 'false' });
    owner = await given(app).user();
  });
  after(() => app.close());

  async function busyOrganization(): Promise<TestOrganization> {
    const organization = await given(app).organization({ owner });
    const project = await given(app).project({ organization, by: owner });
    for (const name of ['One', 'Two', 'Three']) ok(await app.gql(RENAME, { ref: project.ref, name }, owner.token));
    return organization;
  }

  const eventsOf = (organization: TestOrganization) =>
    app.sql<{ id: string; seq: string }>('SELECT id, seq FROM audit_events WHERE organization_id = $1 ORDER BY seq', [
      organization.id,
    ]);

  it('concurrent changes of one organization chain one after another, and verify', async () => {
    const organization = await given(app).organization({ owner });
    const project = await given(app).project({ organization, by: owner });
    const renames = Array.from({ length: 12 }, (_, i) =>
      app.gql(RENAME, { ref: project.ref, name: `N${i}` }, owner.token),
    );
    for (const response of await Promise.all(renames)) ok(response);
    const seqs = (await eventsOf(organization)).map((row) => Number(row.seq));
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
    );
    const verified = await command(app, 'audit-verify', ['--organization', organization.slug]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /14 event\(s\) verified, ok/);
  });

  it('an event altered with SQL is found, by id: audit:verify exits 1', async () => {
    const organization = await busyOrganization();
    const [, second] = await eventsOf(organization);
    await app.sql(`UPDATE audit_events SET changes = '[]' WHERE id = $1`, [second.id]);
    const verified = await command(app, 'audit-verify', ['--organization', organization.slug]);
    assert.equal(verified.code, 1);
    assert.match(verified.stderr, new RegExp(`event ${second.id} \\(seq 2\\) was altered`));
  });

  it('an event deleted with SQL is found: audit:verify names the gap and the event after it', async () => {
    const organization = await busyOrganization();
    const [, second, third] = await eventsOf(organization);
    await app.sql('DELETE FROM audit_events WHERE id = $1', [second.id]);
    const verified = await command(app, 'audit-verify', ['--organization', organization.slug]);
    assert.equal(verified.code, 1);
    assert.match(verified.stderr, new RegExp(`events 2\\.\\.2 are missing \\(deleted\\) before event ${third.id}`));
  });

  it('the last event deleted with SQL is found too, from the chain’s head', async () => {
    const organization = await busyOrganization();
    const events = await eventsOf(organization);
    await app.sql('DELETE FROM audit_events WHERE id = $1', [events.at(-1)?.id]);
    const verified = await command(app, 'audit-verify', ['--organization', organization.slug]);
    assert.equal(verified.code, 1);
    assert.match(verified.stderr, /at the end of the chain are missing/);
  });

  it('an event moved to another place is found', async () => {
    const organization = await busyOrganization();
    const [first, second] = await eventsOf(organization);
    await app.sql('UPDATE audit_events SET seq = 100 + seq WHERE id IN ($1, $2)', [first.id, second.id]);
    await app.sql('UPDATE audit_events SET seq = seq - 101 WHERE id = $1', [second.id]);
    await app.sql('UPDATE audit_events SET seq = seq - 99 WHERE id = $1', [first.id]);
    const verified = await command(app, 'audit-verify', ['--organization', organization.slug]);
    assert.equal(verified.code, 1);
    assert.match(verified.stderr, new RegExp(`event ${second.id} \\(seq 1\\) does not follow`));
  });
});

describe('retention and export', () => {
  let app: TestApp;
  let owner: TestUser;
  before(async () => {
    app = await startTestApp({ BILLING_ENABLED: 'false', JOBS_WORKERS: 'false' });
    owner = await given(app).user();
  });
  after(() => app.close());

  it('the retention job removes old events behind a checkpoint, and the chain still verifies', async () => {
    const organization = await given(app).organization({ owner });
    const project = await given(app).project({ organization, by: owner });
    ok(await app.gql(RENAME, { ref: project.ref, name: 'Old' }, owner.token));
    const seqs = async () =>
      (
        await app.sql<{ seq: string }>('SELECT seq FROM audit_events WHERE organization_id = $1', [organization.id])
      ).map((row) => Number(row.seq));
    const last = Math.max(...(await seqs()));
    // Run as of 400 days from now: every event so far is past AUDIT_RETENTION_DAYS (365).
    const run = await runScheduledJobs(app, new Date(Date.now() + 400 * DAY_MS));
    assert.equal(run.code, 0, run.output);
    // What remains is what the run's own workers recorded after the cut, if anything.
    assert.ok((await seqs()).every((seq) => seq > last));
    const [chain] = await app.sql<{ checkpoint_seq: string }>(
      'SELECT checkpoint_seq FROM audit_chains WHERE chain_key = $1',
      [organization.id],
    );
    assert.ok(Number(chain.checkpoint_seq) >= last);
    // …which the hashes of the removed events no longer confirm, but the checkpoint does:
    const verified = await command(app, 'audit-verify', ['--organization', organization.slug]);
    assert.equal(verified.code, 0, verified.stderr);
    const again = ok(
      await app.gql<{ logIn: { accessToken: string } }>(
        'mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }',
        { input: { email: owner.email, password: owner.password } },
      ),
    ).logIn.accessToken;
    ok(await app.gql(RENAME, { ref: project.ref, name: 'New' }, again));
    assert.equal((await command(app, 'audit-verify', [])).code, 0);
  });

  it('an event dated back cannot erase its chain: the retention job keeps a chain that does not verify whole', async () => {
    const organization = await given(app).organization({ owner: await given(app).user() });
    const count = async () =>
      Number(
        (
          await app.sql<{ count: string }>('SELECT count(*) AS count FROM audit_events WHERE organization_id = $1', [
            organization.id,
          ])
        )[0].count,
      );
    const before = await count();
    // The newest event, dated 400 days back with SQL: the purge's cut would otherwise reach it and everything before.
    await app.sql(
      `UPDATE audit_events SET occurred_at = occurred_at - interval '400 days'
       WHERE id = (SELECT id FROM audit_events WHERE organization_id = $1 ORDER BY seq DESC LIMIT 1)`,
      [organization.id],
    );
    const run = await runScheduledJobs(app, new Date());
    assert.equal(run.code, 1);
    assert.match(run.output, /audit chains that do not verify kept all their events/);
    assert.equal(await count(), before, 'every event of the altered chain is kept');
    const verified = await command(app, 'audit-verify', ['--organization', organization.slug]);
    assert.equal(verified.code, 1);
    assert.match(verified.stdout + verified.stderr, /altered/);
  });

  it('audit:export writes one organization’s events as NDJSON, within --since and --until', async () => {
    const organization = await given(app).organization({ owner });
    const other = await given(app).organization({ owner });
    const project = await given(app).project({ organization, by: owner });
    const middle = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    ok(await app.gql(RENAME, { ref: project.ref, name: 'Exported' }, owner.token));
    const all = await command(app, 'audit-export', ['--organization', organization.slug]);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((line) => line.action),
      ['organization.create', 'project.create', 'project.update'],
    );
    assert.ok(lines.every((line) => (line.organization as { slug: string }).slug === organization.slug));
    assert.ok(lines.every((line) => typeof line.hash === 'string' && typeof line.seq === 'number'));
    assert.notEqual(other.slug, organization.slug);
    const since = await command(app, 'audit-export', [
      '--organization',
      organization.slug,
      '--since',
      middle.toISOString(),
    ]);
    assert.deepEqual(
      since.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { action: string }).action),
      ['project.update'],
    );
    const until = await command(app, 'audit-export', [
      '--organization',
      organization.slug,
      '--until',
      middle.toISOString(),
    ]);
    assert.equal(until.stdout.trim().split('\n').length, 2);
    const unknown = await command(app, 'audit-export', ['--organization', 'no-such-organization']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no-such-organization/);
  });
});
