import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ourDocuments } from '../../bench/workloads';
import { loadConfig } from '../../src/config';
import { loadTrustedDocuments } from '../../src/graphql/trusted-documents';
import { buildApiSchema } from '../../src/schema';
import { queryLimitRules } from '../../src/security/query-limits';
import { startServer } from '../../src/server';
import { createDatabase, dropDatabase } from '../support/database';
import { withoutChanges } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';
import { STUDIO_MANIFEST, studioDocument } from '../support/studio';

type Body = Record<string, unknown>;

/** A POST of `body` as it is, with the caller's token when given. */
async function post(app: TestApp, body: Body, token?: string): Promise<GraphQLResponse> {
  const response = await fetch(app.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Omit<GraphQLResponse, 'status' | 'headers'>;
  return { status: response.status, headers: response.headers, data: json.data ?? null, errors: json.errors };
}

function byHash(name: string, variables: Body = {}): Body {
  const { sha256Hash } = studioDocument(name);
  return { variables, extensions: { persistedQuery: { version: 1, sha256Hash } } };
}

function signUpInput() {
  const email = `trusted-${randomBytes(5).toString('hex')}@example.com`;
  return { input: { email, password: 'a long enough password', displayName: 'T' } };
}

/** Signs up through the studio's trusted SignUp document; returns the token. */
async function signUp(app: TestApp): Promise<string> {
  const response = await post(app, byHash('SignUp', signUpInput()));
  assert.equal(response.errors, undefined, JSON.stringify(response.errors));
  return (response.data as { signUp: { accessToken: string } }).signUp.accessToken;
}

const codes = (response: GraphQLResponse) => response.errors?.map((error) => error.extensions.code);

describe('trusted documents only (TRUSTED_DOCUMENTS_ONLY=true)', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ TRUSTED_DOCUMENTS: STUDIO_MANIFEST, TRUSTED_DOCUMENTS_ONLY: 'true' });
  });
  after(() => app.close());

  it('a trusted document named by extensions.persistedQuery.sha256Hash runs, as Apollo Client sends it', async () => {
    const token = await signUp(app);
    const dashboard = await post(app, byHash('Dashboard'), token);
    assert.equal(dashboard.status, 200);
    assert.deepEqual(dashboard.data, {
      __typename: 'Query',
      organizations: {
        __typename: 'OrganizationConnection',
        totalCount: 0,
        pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: null },
        nodes: [],
      },
    });
  });

  it('documentId names a trusted document too, with its sha256: prefix or as bare hex', async () => {
    const token = await signUp(app);
    const { id, sha256Hash } = studioDocument('Me');
    for (const documentId of [id, sha256Hash]) {
      const me = await post(app, { documentId }, token);
      assert.equal(me.errors, undefined, JSON.stringify(me.errors));
      assert.equal((me.data as { me: { __typename: string } }).me.__typename, 'User');
    }
  });

  it('a GET names a trusted query by its hash, in extensions or as documentId', async () => {
    const { id, sha256Hash } = studioDocument('Plans');
    const extensions = JSON.stringify({ persistedQuery: { version: 1, sha256Hash } });
    for (const search of [`extensions=${encodeURIComponent(extensions)}`, `documentId=${encodeURIComponent(id)}`]) {
      const response = await fetch(`${app.server.url}?${search}`, { headers: { 'apollo-require-preflight': 'true' } });
      const body = (await response.json()) as { data?: { plans: { code: string }[] } };
      assert.equal(response.status, 200);
      assert.ok(body.data?.plans.some((plan) => plan.code === 'free'));
    }
  });

  it('any other document is refused with PERSISTED_QUERY_NOT_ALLOWED before it is parsed, and changes nothing', async () => {
    const query = 'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken } }';
    const refused = await withoutChanges(app, () => post(app, { query, variables: signUpInput() }));
    assert.equal(refused.status, 400);
    assert.deepEqual(codes(refused), ['PERSISTED_QUERY_NOT_ALLOWED']);
    assert.match(refused.errors?.[0].message ?? '', /trusted documents/);
    // A trusted hash beside another text does not let the text through.
    const smuggled = await withoutChanges(app, () =>
      post(app, { ...byHash('SignUp', signUpInput()), query, variables: signUpInput() }),
    );
    assert.deepEqual(codes(smuggled), ['PERSISTED_QUERY_NOT_ALLOWED']);
    const get = await fetch(`${app.server.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    assert.equal(get.status, 400);
    assert.match(await get.text(), /PERSISTED_QUERY_NOT_ALLOWED/);
  });

  it('the text of a trusted document, word for word, runs', async () => {
    const { text } = studioDocument('Plans');
    const response = await post(app, { query: text });
    assert.equal(response.errors, undefined, JSON.stringify(response.errors));
    assert.ok(Array.isArray((response.data as { plans: unknown[] }).plans));
  });

  it('a hash that names no trusted document is PERSISTED_QUERY_NOT_FOUND', async () => {
    const unknown = createHash('sha256').update('{ __typename }').digest('hex');
    const response = await post(app, { extensions: { persistedQuery: { version: 1, sha256Hash: unknown } } });
    assert.deepEqual(codes(response), ['PERSISTED_QUERY_NOT_FOUND']);
  });
});

describe('trusted documents beside any document (TRUSTED_DOCUMENTS_ONLY unset)', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ TRUSTED_DOCUMENTS: STUDIO_MANIFEST });
  });
  after(() => app.close());

  it('a document sent as text still runs, as Sandbox sends it, and trusted ones run by hash', async () => {
    const token = await signUp(app);
    const text = await post(app, { query: '{ me { email } }' }, token);
    assert.equal(text.errors, undefined, JSON.stringify(text.errors));
    const hashed = await post(app, byHash('Me'), token);
    assert.equal(hashed.errors, undefined, JSON.stringify(hashed.errors));
  });

  it('a client cannot add a document: one sent with its own hash runs, and that hash names nothing afterwards', async () => {
    const query = `{ plans { code } } # ${randomBytes(4).toString('hex')}`;
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const persistedQuery = { version: 1, sha256Hash };
    const sent = await post(app, { query, extensions: { persistedQuery } });
    assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
    const named = await post(app, { extensions: { persistedQuery } });
    assert.deepEqual(codes(named), ['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('a document sent with a hash that is not its own runs as sent', async () => {
    const { sha256Hash } = studioDocument('Me');
    const response = await post(app, {
      query: '{ plans { code } }',
      extensions: { persistedQuery: { version: 1, sha256Hash } },
    });
    assert.equal(response.errors, undefined, JSON.stringify(response.errors));
    assert.ok(Array.isArray((response.data as { plans: unknown[] }).plans));
  });
});

describe('a manifest is checked once, at start', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'trusted-documents-'));
  const manifest = (entries: Record<string, string>) => {
    const file = path.join(dir, `${randomBytes(4).toString('hex')}.json`);
    writeFileSync(file, JSON.stringify(entries));
    return file;
  };
  const id = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir });

  async function load(file: string) {
    const schema = await buildApiSchema();
    const rules = {
      schema,
      parseOptions: { maxTokens: 1000 },
      validationRules: queryLimitRules(config.queryLimits, false),
    };
    return loadTrustedDocuments(file, rules, true);
  }

  it("the studio's documents are parsed and validated at start, and Apollo is answered from them", async () => {
    const trusted = await load(STUDIO_MANIFEST);
    const { sha256Hash } = studioDocument('Dashboard');
    const store = trusted.documentStore();
    const first = await store.get(`schema-hash:${sha256Hash}`);
    assert.ok(first, 'the parsed document is in the store from the start');
    assert.equal(await store.get(`other-prefix:${sha256Hash}`), first, 'the same document, parsed once');
  });

  it("the benchmark's documents load as trusted ones (BENCH_TRUSTED_DOCUMENTS=1)", async () => {
    const documents = ourDocuments();
    const trusted = await load(manifest(Object.fromEntries(documents.map((text) => [id(text), text]))));
    assert.equal(trusted.size, documents.length);
  });

  it('a document that does not validate stops the start, naming it', async () => {
    const broken = 'query Broken { nothing }';
    await assert.rejects(
      load(manifest({ [id(broken)]: broken })),
      /TRUSTED_DOCUMENTS document sha256:[0-9a-f]{64}: Broken does not validate: Cannot query field "nothing"/,
    );
  });

  it("a document over the server's query limits stops the start", async () => {
    const deep =
      'query Deep { organizations { nodes { projects { nodes { organization { projects { nodes { organization { projects { nodes { id } } } } } } } } } } }';
    await assert.rejects(
      load(manifest({ [id(deep)]: deep })),
      /Deep does not validate: Query depth limit of 8 exceeded/,
    );
  });

  it('a key that is not the SHA-256 of its document stops the start', async () => {
    const text = '{ plans { code } }';
    await assert.rejects(load(manifest({ [id('{ me { id } }')]: text })), /its key is not the SHA-256 of its text/);
  });

  it('TRUSTED_DOCUMENTS_ONLY needs TRUSTED_DOCUMENTS, and a manifest that cannot be read stops the server', async () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, TRUSTED_DOCUMENTS_ONLY: 'true' }),
      /TRUSTED_DOCUMENTS_ONLY needs TRUSTED_DOCUMENTS/,
    );
    const databaseUrl = await createDatabase({ migrated: true });
    try {
      const missing = loadConfig({
        NODE_ENV: 'test',
        DATA_DIR: dir,
        DATABASE_URL: databaseUrl,
        PORT: '0',
        LOG_LEVEL: 'silent',
        TRUSTED_DOCUMENTS: path.join(dir, 'missing.json'),
      });
      await assert.rejects(startServer(missing), /Invalid configuration: TRUSTED_DOCUMENTS cannot be read as JSON/);
    } finally {
      await dropDatabase(databaseUrl);
    }
  });
});
