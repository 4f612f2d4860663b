import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createDatabase, dropDatabase, migrationNames } from '../support/database';
import { freePort } from '../support/ports';
import { PRODUCTION_START_COMMAND, PRUNED_INSTALL_COMMANDS } from '../support/pruned-install';

const MIGRATIONS = migrationNames();

const REPO = path.join(__dirname, '..', '..', '..');
/** What a build context leaves out: installed and built trees, local data. */
const NOT_COPIED = new Set(['node_modules', 'dist', '.data', '.git', '.bench']);
/** Kept by `npm prune --omit=dev` (TypeORM names ts-node as an optional peer); `npm run prune:compilers` drops them. */
const COMPILERS = ['typescript', 'ts-node', '.bin/tsc', '.bin/tsserver', '.bin/ts-node', '.bin/ts-node-transpile-only'];

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return promisify(execFile)('sh', ['-c', command], { cwd, env, maxBuffer: 64 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: Ran) => error,
  );
}

/** The environment of this test run, without what would change how npm installs or what the app reads. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key === 'NODE_ENV' || key === 'DATABASE_URL' || key.startsWith('npm_')) delete env[key];
  }
  return env;
}

async function startProduction(cwd: string, env: NodeJS.ProcessEnv, port: number): Promise<() => Promise<number>> {
  const child = spawn('sh', ['-c', `exec ${PRODUCTION_START_COMMAND}`], { cwd, env, detached: true });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  const deadline = Date.now() + 30_000;
  while (!output.includes('Platform API ready')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`never ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200, output);
  // npm passes the signal on to the server, as a container runtime's SIGTERM to npm would.
  return async () => {
    child.kill('SIGTERM');
    const code = await exited;
    assert.match(output, /shutting down/, output);
    return code;
  };
}

describe('a pruned production install (the Dockerfile runtime stage, without Docker)', () => {
  let dir: string;
  let url: string;
  let env: NodeJS.ProcessEnv;
  const run = async (command: string, expectedCode = 0): Promise<string> => {
    const ran = await sh(command, dir, env);
    assert.equal(ran.code, expectedCode, `${command}\n${ran.stdout}\n${ran.stderr}`);
    return ran.stdout;
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'platform-api-pruned-'));
    cpSync(REPO, dir, { recursive: true, filter: (source) => !NOT_COPIED.has(path.relative(REPO, source)) });
    // npm's cache serves the lockfile's packages when it has them: the registry is asked only for the rest.
    const install = { ...cleanEnv(), npm_config_prefer_offline: 'true' };
    for (const command of PRUNED_INSTALL_COMMANDS) {
      const ran = await sh(command, dir, install);
      assert.equal(ran.code, 0, `${command}\n${ran.stdout}\n${ran.stderr}`);
    }
    url = await createDatabase({ migrated: false });
    env = {
      ...cleanEnv(),
      NODE_ENV: 'production',
      DATABASE_URL: url,
      AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      MAIL_DISABLED: 'true',
      HOST: '127.0.0.1',
      SHUTDOWN_DELAY_MS: '0',
    };
  });
  after(async () => {
    if (url) await dropDatabase(url);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds no TypeScript compiler, no ts-node and no development dependency', () => {
    for (const absent of [...COMPILERS, 'eslint', 'prettier', 'postgraphile']) {
      assert.equal(existsSync(path.join(dir, 'node_modules', absent)), false, absent);
    }
    assert.ok(existsSync(path.join(dir, 'dist', 'ormconfig.js')));
  });

  it('runs every migration command from dist/', async () => {
    assert.match(await run('npm run typeorm migration:show'), /\[ \] CreatePlatformSchema1795240120694/);
    assert.match(await run('npm run migration:up -- --steps 2'), /Applied: CreatePlatformSchema\d+, AddBilling\d+/);
    await run('npm run typeorm migration:run');
    assert.match(await run('npm run migration:status'), /Up to date\./);
    await run('npm run typeorm migration:revert');
    // migration:revert took back the newest; the rollback takes the one before it.
    const [beforeNewest, newest] = MIGRATIONS.slice(-2);
    assert.match(await run('npm run migration:rollback -- --steps 1'), new RegExp(`Reverted: ${beforeNewest}\n`));
    assert.match(await run('npm run migration:status', 1), new RegExp(`pending\\s+${beforeNewest}`));
    await run(`npm run migration:up -- --to ${newest}`);
    assert.match(await run(`npm run migration:stamp -- --to ${newest}`), /Nothing to stamp/);
    await run(`npm run migration:force -- ${newest} --applied`);
    await run('npm run migration:repair');
    assert.match(await run('npm run db:adopt -- --dry-run'), /Nothing to adopt/);
    assert.match(await run('npm run migration:status'), /Up to date\./);
  });

  it("runs the operator's commands from dist/: platform:admin and platform:plans", async () => {
    assert.match(await run('npm run platform:admin -- list'), /0 platform user\(s\)/);
    const invited = await run('npm run platform:admin -- invite first@example.com');
    assert.match(invited, /invitationToken: \S+/);
    await run('npm run platform:admin -- grant nobody@example.com', 1);
    await run('npm run platform:admin -- promote someone', 2);
    assert.match(await run('npm run platform:plans -- list'), /free\t0 USD\tmax projects: 2/);
  });

  it('runs the audit commands from dist/: audit:verify and audit:export', async () => {
    assert.match(await run('npm run audit:verify'), /chain\(s\) intact/);
    // An unknown organization is refused (exit 1), after the command started and reached the database.
    await run('npm run audit:export -- --organization nobody', 1);
  });

  it(`starts with ${PRODUCTION_START_COMMAND}, serves, and stops on SIGTERM`, async () => {
    const port = await freePort();
    const stop = await startProduction(dir, { ...env, PORT: String(port) }, port);
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    assert.deepEqual(await response.json(), { data: { __typename: 'Query' } });
    assert.equal(await stop(), 0);
  });

  it('runs the job and billing commands from dist/, which an out-of-process worker deployment needs (on the queue the server set up)', async () => {
    assert.match(await run('npm run jobs:status'), /0 failed job\(s\) in the last 7 days/);
    assert.match(await run('npm run jobs:run-scheduled -- --now 2026-01-01T00:00:00Z'), /\S/);
    await run('npm run billing:close-periods -- --now 2026-01-01T00:00:00Z');
  });
});
