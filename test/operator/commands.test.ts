import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildApiSchema } from '../../src/schema';
import { given, ok } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

const SCRIPTS = path.join(__dirname, '..', '..', 'scripts');

/** A command of scripts/, compiled, against the app's database (DATABASE_URL), as an operator runs it. */
async function command(
  app: TestApp,
  name: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, NODE_ENV: 'test', DATABASE_URL: app.databaseUrl };
  return promisify(execFile)(process.execPath, [path.join(SCRIPTS, `${name}.js`), ...args], { env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

const PLATFORM = '{ platform { users(first: 1) { totalCount } } }';

describe('npm run platform:admin', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ SIGNUP_MODE: 'closed' });
  });
  after(() => app.close());

  it('invites the first account of a closed installation, grants it PLATFORM_ADMIN, lists it, and revokes it', async () => {
    const email = `first-admin-${Date.now()}@example.com`;
    const invited = await command(app, 'platform-admin', 'invite', email);
    assert.equal(invited.code, 0, invited.stderr);
    const token = /invitationToken: (\S+)/.exec(invited.stdout)?.[1];
    assert.ok(token, invited.stdout);
    const signed = ok(
      await app.gql<{ signUp: { accessToken: string } }>(
        'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken } }',
        { input: { email, password: 'a long enough password', displayName: 'First', invitationToken: token } },
      ),
    );
    const accessToken = signed.signUp.accessToken;
    assert.equal((await app.gql(PLATFORM, {}, accessToken)).errors?.[0].extensions.code, 'FORBIDDEN');

    const granted = await command(app, 'platform-admin', 'grant', email.toUpperCase());
    assert.equal(granted.code, 0, granted.stderr);
    assert.match(granted.stdout, /is now PLATFORM_ADMIN/);
    ok(await app.gql(PLATFORM, {}, accessToken));
    assert.match((await command(app, 'platform-admin', 'list')).stdout, new RegExp(`${email}\\tPLATFORM_ADMIN`));

    assert.equal((await command(app, 'platform-admin', 'grant', email, '--viewer')).code, 0);
    assert.match((await command(app, 'platform-admin', 'list')).stdout, new RegExp(`${email}\\tPLATFORM_VIEWER`));

    assert.equal((await command(app, 'platform-admin', 'revoke', email)).code, 0);
    assert.equal((await app.gql(PLATFORM, {}, accessToken)).errors?.[0].extensions.code, 'FORBIDDEN');
    assert.doesNotMatch((await command(app, 'platform-admin', 'list')).stdout, new RegExp(email));
  });

  it('exits 1 for an address without an account, and 2 with its usage for wrong arguments', async () => {
    const unknown = await command(app, 'platform-admin', 'grant', 'nobody@example.com');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No account with the e-mail nobody@example.com/);
    for (const args of [
      [],
      ['grant'],
      ['promote', 'a@example.com'],
      ['revoke', 'a@example.com', '--viewer'],
      ['list', 'x'],
    ]) {
      const wrong = await command(app, 'platform-admin', ...args);
      assert.equal(wrong.code, 2, args.join(' '));
      assert.match(wrong.stderr, /usage: npm run platform:admin/);
    }
  });

  it('is not reachable through the API: no mutation grants or revokes a platform role', async () => {
    const mutations = Object.keys((await buildApiSchema()).getMutationType()?.getFields() ?? {});
    assert.deepEqual(
      mutations.filter((name) => /platformRole|PlatformAdmin|PlatformViewer|grantPlatform|revokePlatform/i.test(name)),
      [],
    );
  });
});

describe('npm run platform:plans', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  before(async () => {
    app = await startTestApp();
    make = given(app);
  });
  after(() => app.close());

  it("changes a plan's project limit and price without a migration, and the limit holds at once", async () => {
    const set = await command(app, 'platform-plans', 'set', 'free', '--max-projects', '1', '--price-cents', '0');
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /free\t0 USD\tmax projects: 1/);
    const { plans } = ok(
      await app.gql<{ plans: { code: string; maxProjects: number | null }[] }>('{ plans { code maxProjects } }'),
    );
    assert.equal(plans.find((plan) => plan.code === 'free')?.maxProjects, 1);
    const owner = await make.user();
    const organization = await make.organization({ owner });
    await make.project({ organization, by: owner });
    const second = await app.gql(
      'mutation ($input: CreateProjectInput!) { createProject(input: $input) { ref } }',
      { input: { organizationSlug: organization.slug, name: 'Second', region: 'eu-west-1' } },
      owner.token,
    );
    assert.equal(second.errors?.[0].extensions.code, 'PLAN_LIMIT_REACHED');
    assert.equal((await command(app, 'platform-plans', 'set', 'enterprise', '--max-projects', 'unlimited')).code, 0);
  });

  it('exits 1 for an unknown plan and 2 for wrong arguments, changing nothing', async () => {
    const before = await app.sql('SELECT * FROM plans ORDER BY code');
    assert.equal((await command(app, 'platform-plans', 'set', 'gold', '--price-cents', '5')).code, 1);
    for (const args of [
      ['set', 'pro'],
      ['set', 'pro', '--price-cents', '-3'],
      ['set', 'pro', '--max-projects', 'many'],
      ['drop', 'pro'],
    ]) {
      assert.equal((await command(app, 'platform-plans', ...args)).code, 2, args.join(' '));
    }
    assert.deepEqual(await app.sql('SELECT * FROM plans ORDER BY code'), before);
  });
});
