import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from 'pg';
import { createDatabase, dropDatabase } from '../support/database';
import { eventually } from '../support/given';
import { freePort } from '../support/ports';
import { PRODUCTION_START_COMMAND } from '../support/pruned-install';

const ROOT = path.join(__dirname, '..', '..', '..');
const MAIN = path.join(__dirname, '..', '..', 'src', 'main.js');

const secrets = {
  AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
};

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(command: string, args: string[], env: Record<string, string>): Started {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'DATABASE_URL'));
  const child = spawn(command, args, { cwd: ROOT, env: { ...clean, LOG_LEVEL: 'info', ...env } });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function ready(started: Started): Promise<void> {
  await eventually(() => Promise.resolve(assert.match(started.output(), /Platform API ready/)), 30_000);
}

type Kind = 'ok' | 'refused' | 'reset' | 'unavailable' | 'other';

interface Outcome {
  kind: Kind;
  startedAt: number;
  endedAt: number;
  detail: string;
}

/** One request, classified: answered (ok or 503), refused at connect, or cut off (reset). */
async function request(url: string, init: RequestInit = {}): Promise<Outcome> {
  const startedAt = Date.now();
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    const kind: Kind = response.status === 200 && !text.includes('"errors"') ? 'ok' : 'unavailable';
    return { kind, startedAt, endedAt: Date.now(), detail: `${response.status} ${text.slice(0, 200)}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const kind: Kind = cause?.code === 'ECONNREFUSED' ? 'refused' : cause ? 'reset' : 'other';
    return { kind, startedAt, endedAt: Date.now(), detail: `${cause?.code ?? ''} ${cause?.message ?? String(error)}` };
  }
}

function graphql(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<Outcome> {
  return request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
}

/** Workers that read in a loop until stopped, each outcome recorded. */
function startLoad(url: string, token: string, workers: number) {
  const outcomes: Outcome[] = [];
  let running = true;
  const worker = async () => {
    while (running) {
      const outcome = await graphql(url, '{ organizations(first: 5) { totalCount } }', {}, token);
      outcomes.push(outcome);
      if (outcome.kind !== 'ok') await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const done = Promise.all(Array.from({ length: workers }, worker));
  return {
    outcomes,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Every process started by `pid`, at any depth. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while being read.
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken } }';
const CREATE_ORGANIZATION =
  'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { slug } }';
const RENAME =
  'mutation ($slug: String!, $input: UpdateOrganizationInput!) { updateOrganization(slug: $slug, input: $input) { name } }';

async function signUp(url: string): Promise<string> {
  const email = `shutdown-${randomBytes(4).toString('hex')}@example.com`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: SIGN_UP,
      variables: { input: { email, password: 'a long password', displayName: 'S' } },
    }),
  });
  return ((await response.json()) as { data: { signUp: { accessToken: string } } }).data.signUp.accessToken;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('shutdown behind a load balancer', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('SIGTERM under load: /readyz answers 503 at once, requests are served through SHUTDOWN_DELAY_MS with none reset, in-flight ones are answered, then connections are refused', async () => {
    const databaseUrl = await createDatabase({ migrated: true });
    cleanups.push(() => dropDatabase(databaseUrl));
    const port = await freePort();
    const delayMs = 1500;
    const timeoutMs = 5000;
    const started = start(process.execPath, [MAIN], {
      ...secrets,
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      MIGRATE_ON_START: 'false',
      SHUTDOWN_DELAY_MS: String(delayMs),
      SHUTDOWN_TIMEOUT_MS: String(timeoutMs),
      AUTH_RATE_LIMIT_PER_ADDRESS: '1000000',
    });
    cleanups.push(() => void started.child.kill('SIGKILL'));
    await ready(started);
    const url = `http://127.0.0.1:${port}/graphql`;
    const readyz = `http://127.0.0.1:${port}/readyz`;
    const token = await signUp(url);
    const slug = `held-${randomBytes(4).toString('hex')}`;
    assert.equal((await graphql(url, CREATE_ORGANIZATION, { input: { name: 'Held', slug } }, token)).kind, 'ok');

    // Renames queue behind a row lock of the test's own: in flight from before the signal to after the delay.
    const lock = new Client({ connectionString: databaseUrl });
    await lock.connect();
    cleanups.push(() => lock.end().catch(() => undefined));
    await lock.query('BEGIN');
    await lock.query('SELECT id FROM platform.organizations WHERE slug = $1 FOR UPDATE', [slug]);
    const inFlight = [1, 2].map((i) => graphql(url, RENAME, { slug, input: { name: `Renamed ${i}` } }, token));
    // A session of its own: inside the lock's transaction, pg_stat_activity would stay as first read.
    const monitor = new Client({ connectionString: databaseUrl });
    await monitor.connect();
    cleanups.push(() => monitor.end().catch(() => undefined));
    await eventually(async () => {
      const { rows } = await monitor.query<{ waiting: number }>(
        "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      assert.equal(rows[0].waiting, 2);
    });
    const load = startLoad(url, token, 3);
    await pause(300);

    started.child.kill('SIGTERM');
    const signalledAt = Date.now();
    let probe = await request(readyz);
    while (probe.kind === 'ok' && Date.now() - signalledAt < 2000) probe = await request(readyz);
    const unreadyAt = probe.startedAt;
    assert.equal(probe.kind, 'unavailable', probe.detail);
    assert.match(probe.detail, /^503 .*shutting down/);
    assert.ok(unreadyAt - signalledAt < 300, `/readyz turned 503 ${unreadyAt - signalledAt} ms after SIGTERM`);

    await pause(delayMs + 500);
    const late = await graphql(url, '{ __typename }', {});
    assert.ok(late.kind === 'refused' || late.kind === 'unavailable', `after the delay: ${JSON.stringify(late)}`);
    await load.stop();
    await lock.query('ROLLBACK');
    for (const renamed of await Promise.all(inFlight)) assert.equal(renamed.kind, 'ok', renamed.detail);
    assert.equal(await started.exited, 0, started.output());
    assert.ok(Date.now() - signalledAt < delayMs + timeoutMs, `exited ${Date.now() - signalledAt} ms after SIGTERM`);

    const during = load.outcomes.filter((o) => o.startedAt >= signalledAt && o.endedAt < signalledAt + delayMs - 100);
    assert.ok(during.length > 5, `requests were sent during the delay (${during.length})`);
    assert.deepEqual(
      during.filter((o) => o.kind !== 'ok'),
      [],
      'every request during the delay was served',
    );
    // Past the delay the listener closes: a client that connects in that instant may be reset.
    // By then the load balancer has stopped sending.
    assert.deepEqual(
      load.outcomes.filter(
        (o) => (o.kind === 'reset' || o.kind === 'other') && o.startedAt < signalledAt + delayMs - 50,
      ),
      [],
      'no request sent before the delay was over was cut off',
    );
    const firstTurnedAway = load.outcomes.find((o) => o.kind !== 'ok');
    assert.ok(!firstTurnedAway || firstTurnedAway.startedAt > unreadyAt, 'readiness failed before any request did');
  });

  it(`the production start command (${PRODUCTION_START_COMMAND}) passes SIGTERM on to the server, which shuts down cleanly`, async () => {
    const databaseUrl = await createDatabase({ migrated: true });
    cleanups.push(() => dropDatabase(databaseUrl));
    const port = await freePort();
    const [command, ...args] = PRODUCTION_START_COMMAND.split(' ');
    const started = start(command, args, {
      ...secrets,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      MAIL_DISABLED: 'true',
      PORT: String(port),
      HOST: '127.0.0.1',
      SHUTDOWN_DELAY_MS: '200',
    });
    const pid = started.child.pid as number;
    cleanups.push(() => {
      for (const leftover of descendants(pid)) process.kill(leftover, 'SIGKILL');
      started.child.kill('SIGKILL');
    });
    await ready(started);
    const server = descendants(pid);
    started.child.kill('SIGTERM');
    assert.equal(await started.exited, 0, started.output());
    assert.match(started.output(), /shutting down/);
    await pause(500);
    assert.deepEqual(
      server.filter((child) => readdirSync('/proc').includes(String(child))),
      [],
      'no server process is left running',
    );
    assert.equal((await request(`http://127.0.0.1:${port}/healthz`)).kind, 'refused');
  });
});
