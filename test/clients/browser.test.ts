import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { eventually, given, type TestUser } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';
import { REPOSITORY } from '../support/studio';

/** Debian's Chromium, installed by .ci/run; never a browser that Playwright downloads. */
const CHROMIUM = '/usr/bin/chromium';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // No name resolves but the loopback ones: nothing the pages ask for leaves the machine.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

const PAGE = readFileSync(path.join(REPOSITORY, 'test', 'clients', 'studio-page.html'), 'utf8');

type LogLine = { msg: string; method?: string; path?: string; status?: number };

/** A second local origin that serves the studio's page, as a studio's own host would. */
async function pageServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function isLoopback(url: string): boolean {
  const { hostname } = new URL(url);
  return hostname === '127.0.0.1' || hostname === 'localhost';
}

interface StudioResult {
  ok: boolean;
  error?: string;
  status?: number;
  body?: { data?: { organizations: { totalCount: number; nodes: { slug: string }[] } } };
}

describe('a browser on another origin (headless Chromium)', () => {
  let app: TestApp;
  let pages: { server: Server; port: number };
  let browser: BrowserContext;
  let userDataDir: string;
  let owner: TestUser;
  let slug: string;
  const logs: LogLine[] = [];
  /** What pages asked for beyond the loopback (no name resolves there: see the flags). */
  const outside: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run installs Debian's chromium package`);
    pages = await pageServer();
    const destination = { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) };
    app = await startTestApp(
      { CORS_ORIGINS: `http://127.0.0.1:${pages.port}`, LOG_LEVEL: 'info' },
      { logDestination: destination },
    );
    owner = await given(app).user();
    slug = (await given(app).organization({ owner })).slug;
    userDataDir = mkdtempSync(path.join(tmpdir(), 'chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
    });
    // Not page.route: with interception on, Playwright answers CORS preflights itself.
    browser.on('request', (request) => {
      if (!isLoopback(request.url())) outside.push(request.url());
    });
  });
  after(async () => {
    await browser?.close();
    rmSync(userDataDir, { recursive: true, force: true });
    pages?.server.close();
    await app?.close();
  });

  /** Opens the studio's page at `origin` and waits for what it reports. */
  async function runStudio(page: Page, origin: string): Promise<StudioResult> {
    const search = new URLSearchParams({ api: app.server.url, email: owner.email, password: owner.password });
    await page.goto(`${origin}/?${search.toString()}`);
    const result = page.locator('#result[data-done="true"]');
    await result.waitFor({ timeout: 15_000 });
    return JSON.parse((await result.textContent()) ?? '{}') as StudioResult;
  }

  const graphqlLines = (method: string) =>
    logs.filter((line) => line.msg === 'request' && line.path === '/graphql' && line.method === method);

  it('an allowed origin passes the preflight, sends the token and reads the dashboard', async () => {
    const page = await browser.newPage();
    const preflights = graphqlLines('OPTIONS').length;
    const result = await runStudio(page, `http://127.0.0.1:${pages.port}`);
    assert.equal(result.ok, true, result.error);
    assert.equal(result.status, 200);
    assert.deepEqual(
      result.body?.data?.organizations.nodes.map((node) => node.slug),
      [slug],
    );
    const answered = graphqlLines('OPTIONS').slice(preflights);
    assert.ok(
      answered.length >= 1,
      `the browser asked first: ${JSON.stringify(logs.filter((l) => l.msg === 'request'))}`,
    );
    assert.ok(answered.every((line) => line.status === 204));
    await page.close();
  });

  it('the same page from an origin that is not allowed is refused at the preflight: nothing is sent', async () => {
    const page = await browser.newPage();
    const posts = graphqlLines('POST').length;
    const preflights = graphqlLines('OPTIONS').length;
    const result = await runStudio(page, `http://localhost:${pages.port}`);
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', /Failed to fetch/);
    assert.deepEqual(
      graphqlLines('OPTIONS')
        .slice(preflights)
        .map((line) => line.status),
      [403],
    );
    assert.equal(graphqlLines('POST').length, posts, 'the log-in was never sent');
    await page.close();
  });

  it('a simple cross-site POST (text/plain, no preflight) is blocked by CSRF prevention and changes nothing', async () => {
    const page = await browser.newPage();
    await page.goto(`http://localhost:${pages.port}/?api=`);
    const email = `csrf-${randomBytes(4).toString('hex')}@example.com`;
    const body = JSON.stringify({
      query: 'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken } }',
      variables: { input: { email, password: 'a long enough password', displayName: 'C' } },
    });
    const posts = graphqlLines('POST').length;
    // The answer is opaque to the page (and its cross-origin resource policy withholds it from another site).
    await page.evaluate(
      async ({ api, text }) => {
        const simple = {
          method: 'POST',
          mode: 'no-cors',
          headers: { 'content-type': 'text/plain' },
          body: text,
        } as const;
        await fetch(api, simple).catch(() => undefined);
      },
      { api: app.server.url, text: body },
    );
    await eventually(() => Promise.resolve(assert.equal(graphqlLines('POST').length, posts + 1)));
    assert.deepEqual(
      graphqlLines('POST')
        .slice(posts)
        .map((line) => line.status),
      [400],
      'the request reached the server, which refused it',
    );
    assert.deepEqual(await app.sql('SELECT id FROM users WHERE email = $1', [email]), []);
    await page.close();
  });

  it('the landing page points to GraphiQL, which loads from the server alone and reads the schema', async () => {
    const page = await browser.newPage();
    const origin = new URL(app.server.url).origin;
    await page.goto(`${origin}/`);
    const link = page.locator('#offline-explorer a');
    await link.waitFor({ timeout: 15_000 });
    assert.equal(await link.getAttribute('href'), '/graphiql');
    outside.length = 0;
    const introspection = page.waitForResponse(
      (response) =>
        response.url() === `${origin}/graphql` &&
        response.request().method() === 'POST' &&
        (response.request().postData() ?? '').includes('__schema'),
      { timeout: 30_000 },
    );
    await link.click();
    await page.waitForURL(`${origin}/graphiql`);
    const answer = await introspection;
    assert.equal(answer.status(), 200);
    assert.ok(((await answer.json()) as { data?: { __schema?: unknown } }).data?.__schema);
    await page.locator('.graphiql-execute-button').waitFor({ timeout: 30_000 });
    assert.deepEqual(outside, [], 'GraphiQL asked for nothing beyond this server');
    await page.close();
  });
});
