import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/server';

const html = { accept: 'text/html' };

describe('explorers outside production', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  it("GraphiQL is served at /graphiql with its scripts from the server's own dependencies, none from a CDN", async () => {
    const page = await fetch(new URL('/graphiql', app.server.url), { headers: html });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const text = await page.text();
    assert.match(text, /\/graphiql\/static\/ruru\.js/);
    assert.match(text, /"endpoint": "\/graphql"/);
    assert.doesNotMatch(text, /https?:\/\//, 'nothing is loaded from another host');
    const script = await fetch(new URL('/graphiql/static/ruru.js', app.server.url));
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /javascript/);
    assert.ok((await script.arrayBuffer()).byteLength > 1000);
    const missing = await fetch(new URL('/graphiql/static/nothing.js', app.server.url));
    assert.equal(missing.status, 404);
  });

  it('the landing page says where GraphiQL is', async () => {
    const landing = await fetch(app.server.url, { headers: html });
    assert.equal(landing.status, 200);
    assert.match(await landing.text(), /<a href="\/graphiql">GraphiQL<\/a>/);
  });
});

describe('explorers in production', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({
      NODE_ENV: 'production',
      AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
  });
  after(() => app.close());

  it('neither GraphiQL nor the landing page is served', async () => {
    for (const path of ['/graphiql', '/graphiql/static/ruru.js']) {
      const response = await fetch(new URL(path, app.server.url), { headers: html });
      assert.equal(response.status, 404, path);
    }
    const landing = await fetch(app.server.url, { headers: html });
    assert.doesNotMatch(await landing.text(), /graphiql|Sandbox/i);
  });
});
