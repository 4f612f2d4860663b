import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
import { eventually, given, ok, untilStatus, type TestProject } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';
import { startTestProvisioner, type TestProvisioner } from './provisioner-server';

const RESTORE = 'mutation ($ref: String!) { restoreProject(ref: $ref) { status } }';

async function jobsOf(app: TestApp, projectId: string): Promise<{ state: string; data: { step: string } }[]> {
  return app.sql(
    `SELECT state::text AS state, data FROM pgboss.job WHERE name = 'project-step' AND singleton_key = $1 ORDER BY created_on`,
    [projectId],
  );
}

/** `npm run jobs:status -- --json` against the app's database. */
async function jobsStatus(app: TestApp): Promise<{ code: number; output: string }> {
  const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'jobs-status.js'), '--json'], {
    env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: app.databaseUrl, LOG_LEVEL: 'silent' },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number>((resolve) => child.on('exit', (exit) => resolve(exit ?? 1)));
  return { code, output };
}

/** A second server process's worth of settings on the same database. */
function configOn(databaseUrl: string, env: Record<string, string> = {}) {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
    ...env,
  });
}

describe('project lifecycle through the job queue', () => {
  let provisioner: TestProvisioner;
  before(async () => {
    provisioner = await startTestProvisioner();
  });
  after(() => provisioner.close());

  it('a project committed while no worker ran reaches ACTIVE_HEALTHY when a server with workers starts', async () => {
    const app = await startTestApp({ JOBS_WORKERS: 'false' });
    let second: RunningServer | undefined;
    try {
      const make = given(app);
      const owner = await make.user();
      const organization = await make.organization({ owner });
      const project = await make.project({ organization, by: owner });
      const [row] = await app.sql<{ status: string }>('SELECT status FROM projects WHERE id = $1', [project.id]);
      assert.equal(row.status, 'COMING_UP');
      assert.deepEqual(
        (await jobsOf(app, project.id)).map((job) => [job.state, job.data.step]),
        [['created', 'init']],
      );
      await app.server.stop();
      second = await startServer(configOn(app.databaseUrl));
      await untilStatus(app, project, 'ACTIVE_HEALTHY');
    } finally {
      await second?.stop();
      await app.close();
    }
  });

  it('a project left COMING_UP without any job (from before the queue) is given its step by the sweep at start', async () => {
    const app = await startTestApp({ JOBS_WORKERS: 'false' });
    let second: RunningServer | undefined;
    try {
      const make = given(app);
      const owner = await make.user();
      const project = await make.project({ organization: await make.organization({ owner }), by: owner });
      await app.sql('DELETE FROM pgboss.job WHERE singleton_key = $1', [project.id]);
      await app.server.stop();
      second = await startServer(configOn(app.databaseUrl));
      await untilStatus(app, project, 'ACTIVE_HEALTHY');
    } finally {
      await second?.stop();
      await app.close();
    }
  });

  it('a provisioner that fails every attempt leaves INIT_FAILED; restoring once it recovers reaches ACTIVE_HEALTHY', async () => {
    const app = await startTestApp({
      PROVISIONER_URL: provisioner.url,
      PROVISIONER_MAX_ATTEMPTS: '2',
      PROVISIONER_RETRY_BASE_MS: '1000',
    });
    try {
      const make = given(app);
      const owner = await make.user();
      const organization = await make.organization({ owner });
      provisioner.failing = true;
      const project = await make.project({ organization, by: owner });
      await eventually(() => untilStatus(app, project, 'INIT_FAILED'), 20_000);
      const attempts = provisioner.calls.filter((call) => call.ref === project.ref);
      assert.equal(attempts.length, 2, 'PROVISIONER_MAX_ATTEMPTS attempts, then no more');
      assert.deepEqual(
        attempts.map((call) => [call.step, call.organizationSlug]),
        [
          ['init', organization.slug],
          ['init', organization.slug],
        ],
      );
      assert.equal(attempts[0].idempotencyKey, attempts[1].idempotencyKey, 'one key for every attempt of a step');
      await eventually(async () => assert.equal((await jobsOf(app, project.id))[0].state, 'failed'));
      const status = await jobsStatus(app);
      assert.equal(status.code, 1, 'jobs:status exits 1 while a job has failed');
      const report = JSON.parse(status.output) as { failed: { name: string; data: { projectId: string } }[] };
      assert.ok(report.failed.some((job) => job.name === 'project-step' && job.data.projectId === project.id));

      provisioner.failing = false;
      const restored = ok(
        await app.gql<{ restoreProject: { status: string } }>(RESTORE, { ref: project.ref }, owner.token),
      );
      assert.equal(restored.restoreProject.status, 'COMING_UP');
      await untilStatus(app, project, 'ACTIVE_HEALTHY');
      const retried = provisioner.calls.filter((call) => call.ref === project.ref);
      assert.equal(retried.length, 3);
      assert.notEqual(retried[2].idempotencyKey, retried[0].idempotencyKey, 'a new step, a new key');
    } finally {
      provisioner.failing = false;
      await app.close();
    }
  });

  it('a project in a transitional state answers CONFLICT to a second request, naming its state', async () => {
    const app = await startTestApp({ JOBS_WORKERS: 'false' });
    try {
      const make = given(app);
      const owner = await make.user();
      const project = await make.project({ organization: await make.organization({ owner }), by: owner });
      const response = await app.gql(RESTORE, { ref: project.ref }, owner.token);
      assert.equal(response.errors?.[0].extensions.code, 'CONFLICT');
      assert.match(response.errors?.[0].message ?? '', /COMING_UP/);
    } finally {
      await app.close();
    }
  });

  it('a transaction that rolls back enqueues nothing', async () => {
    const app = await startTestApp({ JOBS_WORKERS: 'false' });
    try {
      const make = given(app);
      const owner = await make.user();
      const organization = await make.organization({ owner });
      const projects: TestProject[] = [];
      for (let i = 0; i < 2; i += 1) projects.push(await make.project({ organization, by: owner }));
      // The free plan's limit: the third project is written, then refused, and its transaction rolled back.
      const refused = await app.gql(
        'mutation ($input: CreateProjectInput!) { createProject(input: $input) { id } }',
        { input: { organizationSlug: organization.slug, name: 'Third', region: 'eu-west-1' } },
        owner.token,
      );
      assert.equal(refused.errors?.[0].extensions.code, 'PLAN_LIMIT_REACHED');
      const jobs = await app.sql<{ project_id: string }>(
        `SELECT data->>'projectId' AS project_id FROM pgboss.job WHERE name = 'project-step' ORDER BY created_on`,
      );
      assert.deepEqual(
        jobs.map((job) => job.project_id),
        projects.map((project) => project.id),
      );
    } finally {
      await app.close();
    }
  });

  it('two server processes on one database run each lifecycle step once', async () => {
    const app = await startTestApp({ PROVISIONER_URL: provisioner.url });
    const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'src', 'main.js')], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: app.databaseUrl,
        PORT: '0',
        HOST: '127.0.0.1',
        AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
        ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        LOG_LEVEL: 'info',
        PROVISIONER_URL: provisioner.url,
        JOBS_CONCURRENCY: '4',
      },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('Platform API ready')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`the second server exited with ${code}`)));
      });
      const make = given(app);
      const owner = await make.user();
      const organization = await make.organization({ owner });
      await make.paymentMethod({ organization, by: owner });
      await make.changePlan({ organization, by: owner, plan: 'team' });
      const projects = await Promise.all(
        Array.from({ length: 12 }, (_, i) => make.project({ organization, by: owner, name: `Project ${i}` })),
      );
      for (const project of projects) await untilStatus(app, project, 'ACTIVE_HEALTHY');
      const refs = new Set(projects.map((project) => project.ref));
      const inits = provisioner.calls.filter((call) => call.step === 'init' && refs.has(call.ref));
      assert.equal(inits.length, projects.length, 'one call per project');
      assert.equal(new Set(inits.map((call) => call.idempotencyKey)).size, projects.length);
      // pg-boss records a job completed just after its handler moved the project on: wait for the last record.
      await eventually(async () => {
        const completed = await app.sql<{ count: string }>(
          "SELECT count(*) AS count FROM pgboss.job WHERE name = 'project-step' AND state = 'completed'",
        );
        assert.equal(Number(completed[0].count), projects.length, 'each job completed once, none retried');
      });
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await app.close();
    }
  });
});
