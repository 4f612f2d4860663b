import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { given, type TestUser } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

/** The value of one series in Prometheus's text format, or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((row) => row.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(app: TestApp): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${app.server.metricsPort}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return response.text();
}

const LOG_IN = 'mutation LogIn($input: LogInInput!) { attempt: logIn(input: $input) { accessToken } }';

describe('metrics on METRICS_PORT', () => {
  let app: TestApp;
  let user: TestUser;
  before(async () => {
    app = await startTestApp({ METRICS_PORT: '0', AUTH_RATE_LIMIT_PER_ACCOUNT: '2' });
    user = await given(app).user();
  });
  after(() => app.close());

  it('counts GraphQL requests by operation name and outcome, with their latency', async () => {
    await app.gql('query Dashboard { organizations { totalCount } }', {}, user.token);
    await app.gql('query Dashboard { organizations { totalCount } }', {}, user.token);
    await app.gql('query Dashboard { organizations { totalCount } }');
    const text = await scrape(app);
    assert.equal(sample(text, 'platform_api_graphql_requests_total{operation="Dashboard",outcome="ok"}'), 2);
    assert.equal(
      sample(text, 'platform_api_graphql_requests_total{operation="Dashboard",outcome="UNAUTHENTICATED"}'),
      1,
    );
    assert.equal(sample(text, 'platform_api_graphql_request_duration_seconds_count{operation="Dashboard"}'), 3);
    assert.equal(
      sample(text, 'platform_api_graphql_request_duration_seconds_bucket{le="+Inf",operation="Dashboard"}'),
      3,
    );
    assert.ok((sample(text, 'platform_api_http_responses_total{route="graphql",status="200"}') ?? 0) >= 3);
  });

  it('reports both database pools, in use and waiting, and the job queue hook', async () => {
    const text = await scrape(app);
    for (const pool of ['main', 'read']) {
      assert.notEqual(sample(text, `platform_api_database_pool_connections{pool="${pool}",state="in_use"}`), undefined);
      assert.ok((sample(text, `platform_api_database_pool_connections{pool="${pool}",state="idle"}`) ?? 0) >= 1);
      assert.equal(sample(text, `platform_api_database_pool_waiting{pool="${pool}"}`), 0);
      assert.equal(sample(text, `platform_api_database_pool_max{pool="${pool}"}`), 10);
    }
    app.server.metrics.jobs.reportQueueDepth(() => Promise.resolve(7));
    app.server.metrics.jobs.failed('provision');
    const withJobs = await scrape(app);
    assert.equal(sample(withJobs, 'platform_api_jobs_queued'), 7);
    assert.equal(sample(withJobs, 'platform_api_job_failures_total{kind="provision"}'), 1);
  });

  it('counts log-in throttling by the operation refused, whatever alias the client gave it', async () => {
    const input = { email: user.email, password: 'not the password' };
    const codes: string[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      codes.push(String((await app.gql(LOG_IN, { input })).errors?.[0]?.extensions.code));
    }
    assert.deepEqual(codes, ['UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED']);
    const text = await scrape(app);
    assert.equal(sample(text, 'platform_api_auth_throttled_total{operation="logIn"}'), 1);
    assert.equal(sample(text, 'platform_api_graphql_requests_total{operation="LogIn",outcome="RATE_LIMITED"}'), 1);
  });

  it('has Node process metrics', async () => {
    const text = await scrape(app);
    assert.match(text, /^process_cpu_user_seconds_total \d/m);
    assert.match(text, /^nodejs_eventloop_lag_seconds \d/m);
    assert.match(text, /^process_resident_memory_bytes \d/m);
  });

  it('bounds operation names chosen by clients: past 200 distinct ones they count as "other"', async () => {
    for (let i = 0; i < 210; i += 1) await app.gql(`query Probe${i} { __typename }`);
    await app.gql('query Probe0 { __typename }');
    const text = await scrape(app);
    const names = new Set(
      [...text.matchAll(/^platform_api_graphql_requests_total\{operation="([^"]+)"/gm)].map((match) => match[1]),
    );
    const chosen = [...names].filter((name) => name !== 'anonymous' && name !== 'other');
    assert.equal(chosen.length, 200, `${chosen.length} operation names kept`);
    assert.ok((sample(text, 'platform_api_graphql_requests_total{operation="other",outcome="ok"}') ?? 0) > 0);
    assert.equal(sample(text, 'platform_api_graphql_requests_total{operation="Probe0",outcome="ok"}'), 2);
  });

  it('are never served on the public port', async () => {
    const response = await fetch(new URL('/metrics', app.server.url));
    assert.equal(response.status, 404);
    assert.doesNotMatch(await response.text(), /platform_api_/);
  });
});

describe('metrics', () => {
  it('are off unless METRICS_PORT is set', async () => {
    const app = await startTestApp();
    try {
      assert.equal(app.server.metricsPort, undefined);
      assert.equal(app.server.metrics.registry, null);
    } finally {
      await app.close();
    }
  });
});
