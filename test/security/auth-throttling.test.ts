import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import argon2 from 'argon2';
import { throttlingKey } from '../../src/security/client-address';
import { TokenBuckets } from '../../src/security/token-buckets';
import { given, ok, withoutChanges, type TestUser } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

type Response = GraphQLResponse<unknown>;

const LOG_IN = 'mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }';
const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken } }';
const ACCEPT = 'mutation ($token: String!) { acceptInvitation(token: $token) { role } }';
const INVITE = 'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }';
const PASSWORD = 'a long enough password';

/** Every argon2 computation the server makes, counted in this process (the server runs in it). */
const hashing = { hashes: 0, verifies: 0 };
const mutableArgon2 = argon2 as { hash: typeof argon2.hash; verify: typeof argon2.verify };
const { hash: realHash, verify: realVerify } = argon2;

function countArgon2(): void {
  mutableArgon2.hash = ((...args: Parameters<typeof realHash>) => {
    hashing.hashes += 1;
    return realHash(...args);
  }) as typeof realHash;
  mutableArgon2.verify = (...args: Parameters<typeof realVerify>) => {
    hashing.verifies += 1;
    return realVerify(...args);
  };
}

function stopCountingArgon2(): void {
  mutableArgon2.hash = realHash;
  mutableArgon2.verify = realVerify;
}

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

function codes(response: Response): string[] {
  return (response.errors ?? []).map((error) => error.extensions.code);
}

describe('throttling of log-in, sign-up and invitation acceptance', () => {
  let app: TestApp;
  let address = 0;
  let signUps = 0;
  /** A client address of its own for each test, through the trusted proxy's X-Forwarded-For. */
  let client: string;

  /** `app.gql` from `client`, behind one trusted proxy. */
  async function gql(query: string, variables: Record<string, unknown>, token?: string, from = client) {
    const response = await fetch(app.server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-forwarded-for': from,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: unknown; errors?: Response['errors'] };
    return { status: response.status, headers: response.headers, data: body.data ?? null, errors: body.errors };
  }

  const logIn = (email: string, password = 'not the password', from = client) =>
    gql(LOG_IN, { input: { email, password } }, undefined, from);

  before(async () => {
    app = await startTestApp({
      AUTH_RATE_LIMIT_PER_ACCOUNT: '3',
      AUTH_RATE_LIMIT_PER_ADDRESS: '6',
      AUTH_RATE_LIMIT_WINDOW_SECONDS: '900',
      TRUST_PROXY_HOPS: '1',
    });
  });
  after(() => app.close());
  beforeEach(() => {
    address += 1;
    client = `203.0.113.${address}`;
    hashing.hashes = 0;
    hashing.verifies = 0;
    countArgon2();
  });
  afterEach(stopCountingArgon2);

  /** A user signed up from an address of its own, so that the sign-up counts against no limit of a test. */
  async function user(): Promise<TestUser> {
    const email = `${unique('user')}@example.com`;
    signUps += 1;
    const from = `2001:db8:${signUps.toString(16)}::1`;
    const response = await gql(SIGN_UP, { input: { email, password: PASSWORD, displayName: 'U' } }, undefined, from);
    const data = ok(response as GraphQLResponse<{ signUp: { accessToken: string } }>);
    const [row] = await app.sql<{ id: string }>('SELECT id FROM users WHERE email = $1', [email]);
    return { id: row.id, email, password: PASSWORD, token: data.signUp.accessToken };
  }

  it('after 3 attempts at one account, the next is RATE_LIMITED with a retry hint, and hashes nothing', async () => {
    const victim = await user();
    for (let i = 0; i < 3; i += 1) assert.deepEqual(codes(await logIn(victim.email)), ['UNAUTHENTICATED']);
    const verifiesBefore = hashing.verifies;
    const throttled = await logIn(victim.email, victim.password);
    assert.deepEqual(codes(throttled), ['RATE_LIMITED'], 'even with the right password');
    const retryAfter = throttled.errors?.[0].extensions.retryAfterSeconds;
    assert.ok(typeof retryAfter === 'number' && retryAfter > 0 && retryAfter <= 900, String(retryAfter));
    assert.match(throttled.errors?.[0].message ?? '', /try again in \d+ seconds/);
    assert.equal(hashing.verifies, verifiesBefore, 'a throttled attempt computes no hash');
    // The account's limit follows the account, from any address.
    assert.deepEqual(codes(await logIn(victim.email, victim.password, '192.0.2.77')), ['RATE_LIMITED']);
    assert.deepEqual(codes(await logIn(` ${victim.email.toUpperCase()} `, victim.password, '192.0.2.78')), [
      'RATE_LIMITED',
    ]);
  });

  it('each aliased log-in in one document is an attempt of its own', async () => {
    const victim = await user();
    const document = `mutation ($input: LogInInput!) { ${Array.from(
      { length: 5 },
      (_, i) => `a${i}: logIn(input: $input) { accessToken }`,
    ).join(' ')} }`;
    // With the right password each alias runs (a failed one would stop the rest): three, then the limit.
    const response = await gql(document, { input: { email: victim.email, password: victim.password } });
    assert.deepEqual(
      response.errors?.map((error) => [error.path?.[0], error.extensions.code]),
      [['a3', 'RATE_LIMITED']],
    );
    assert.equal(hashing.verifies, 3);
  });

  it('one address gets 6 attempts across accounts, and a forged X-Forwarded-For entry does not reset it', async () => {
    for (let i = 0; i < 6; i += 1) {
      const forged = `10.0.0.${i}, ${client}`;
      assert.deepEqual(codes(await logIn(`${unique('nobody')}@example.com`, 'whatever password', forged)), [
        'UNAUTHENTICATED',
      ]);
    }
    assert.deepEqual(codes(await logIn(`${unique('nobody')}@example.com`)), ['RATE_LIMITED']);
    assert.deepEqual(codes(await logIn(`${unique('nobody')}@example.com`, 'whatever', '192.0.2.200')), [
      'UNAUTHENTICATED',
    ]);
  });

  it('sign-ups are throttled per e-mail address and per client address, before hashing', async () => {
    const email = `${unique('taken')}@example.com`;
    const signUp = (as: string, from = client) =>
      gql(SIGN_UP, { input: { email: as, password: PASSWORD, displayName: 'S' } }, undefined, from);
    ok(await signUp(email));
    assert.deepEqual(codes(await signUp(email)), ['CONFLICT']);
    assert.deepEqual(codes(await signUp(email, '192.0.2.10')), ['CONFLICT']);
    const hashesBefore = hashing.hashes;
    const throttled = await withoutChanges(app, () => signUp(email, '192.0.2.11'));
    assert.deepEqual(codes(throttled), ['RATE_LIMITED']);
    assert.equal(hashing.hashes, hashesBefore, 'a throttled sign-up computes no hash');
    // Four more new accounts from `client` reach its limit of six.
    for (let i = 0; i < 4; i += 1) ok(await signUp(`${unique('new')}@example.com`));
    assert.deepEqual(codes(await withoutChanges(app, () => signUp(`${unique('new')}@example.com`))), ['RATE_LIMITED']);
  });

  it('accepting invitations is throttled per account: guessed tokens use up the attempts', async () => {
    const owner = await user();
    const organization = await given(app).organization({ owner });
    const invitee = await user();
    const invited = ok(
      await app.gql<{ inviteMember: { token: string } }>(
        INVITE,
        { input: { organizationSlug: organization.slug, email: invitee.email, role: 'MEMBER' } },
        owner.token,
      ),
    );
    for (let i = 0; i < 3; i += 1) {
      assert.deepEqual(codes(await gql(ACCEPT, { token: randomBytes(32).toString('base64url') }, invitee.token)), [
        'NOT_FOUND',
      ]);
    }
    const throttled = await withoutChanges(app, () =>
      gql(ACCEPT, { token: invited.inviteMember.token }, invitee.token, '192.0.2.30'),
    );
    assert.deepEqual(codes(throttled), ['RATE_LIMITED']);
  });

  it('the counts are shared: a second API process on the same database sees the attempts made on the first', async () => {
    const victim = await user();
    const second = await startTestApp(
      { AUTH_RATE_LIMIT_PER_ACCOUNT: '3', AUTH_RATE_LIMIT_PER_ADDRESS: '6', TRUST_PROXY_HOPS: '1' },
      {},
      app,
    );
    try {
      for (let i = 0; i < 3; i += 1) assert.deepEqual(codes(await logIn(victim.email)), ['UNAUTHENTICATED']);
      const elsewhere = await fetch(second.server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '192.0.2.90' },
        body: JSON.stringify({ query: LOG_IN, variables: { input: { email: victim.email, password: PASSWORD } } }),
      });
      const body = (await elsewhere.json()) as { errors?: { extensions: { code: string } }[] };
      assert.deepEqual(
        body.errors?.map((error) => error.extensions.code),
        ['RATE_LIMITED'],
      );
    } finally {
      await second.close();
    }
  });

  it('a log-in whose attempt cannot be counted is refused with SERVICE_UNAVAILABLE, never let through', async () => {
    const victim = await user();
    await app.sql('ALTER TABLE platform.auth_throttle RENAME TO auth_throttle_away');
    try {
      const refused = await logIn(victim.email, victim.password);
      assert.deepEqual(codes(refused), ['SERVICE_UNAVAILABLE']);
      assert.equal(hashing.verifies, 0, 'the password was not checked');
    } finally {
      await app.sql('ALTER TABLE platform.auth_throttle_away RENAME TO auth_throttle');
    }
    assert.deepEqual(codes(await logIn(victim.email, 'wrong password')), ['UNAUTHENTICATED']);
  });

  it('accepting invitations is throttled per client address across accounts', async () => {
    const guessers = await Promise.all(Array.from({ length: 7 }, () => user()));
    for (const guesser of guessers.slice(0, 6)) {
      assert.deepEqual(codes(await gql(ACCEPT, { token: 'guess' }, guesser.token)), ['NOT_FOUND']);
    }
    assert.deepEqual(codes(await gql(ACCEPT, { token: 'guess' }, guessers[6].token)), ['RATE_LIMITED']);
  });
});

describe('password hashing at log-in', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  /** Milliseconds of one failed log-in, measured by the client. */
  async function failedLogIn(email: string): Promise<number> {
    const started = performance.now();
    const response = await app.gql(LOG_IN, { input: { email, password: 'not the password' } });
    const elapsed = performance.now() - started;
    assert.deepEqual(codes(response), ['UNAUTHENTICATED']);
    assert.equal(response.errors?.[0].message, 'Invalid e-mail or password');
    return elapsed;
  }

  function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  it('an unknown e-mail costs the same time as a wrong password', async () => {
    const known = await given(app).user();
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 9; i += 1) {
      unknown.push(await failedLogIn(`${unique('nobody')}@example.com`));
      wrong.push(await failedLogIn(known.email));
    }
    const ratio = median(unknown) / median(wrong);
    // Without the decoy hash an unknown e-mail answers in a few percent of the time.
    assert.ok(ratio > 0.6 && ratio < 1.6, `unknown ${median(unknown)} ms, wrong password ${median(wrong)} ms`);
  });

  it('a hash made with other parameters is replaced at the next successful log-in', async () => {
    const make = given(app);
    const user = await make.user();
    const weak = await realHash(user.password, { type: argon2.argon2id, memoryCost: 4096, timeCost: 1 });
    await app.sql('UPDATE users SET hashed_password = $1 WHERE id = $2', [weak, user.id]);
    const stored = async () =>
      (await app.sql<{ hashed_password: string }>('SELECT hashed_password FROM users WHERE id = $1', [user.id]))[0]
        .hashed_password;

    await failedLogIn(user.email);
    assert.equal(await stored(), weak, 'a failed log-in changes nothing');
    ok(await app.gql(LOG_IN, { input: { email: user.email, password: user.password } }));
    const rehashed = await stored();
    assert.notEqual(rehashed, weak);
    assert.match(rehashed, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    ok(await app.gql(LOG_IN, { input: { email: user.email, password: user.password } }));
    assert.equal(await stored(), rehashed, 'a current hash is kept');
  });
});

describe('token buckets', () => {
  it('hold the capacity, refill over the window, and say when the next token is back', () => {
    let now = 0;
    const buckets = new TokenBuckets(3, 900_000, 100, () => now);
    for (let i = 0; i < 3; i += 1) assert.equal(buckets.take('a').allowed, true);
    assert.deepEqual(buckets.take('a'), { allowed: false, retryAfterMs: 300_000 });
    assert.equal(buckets.take('b').allowed, true, 'keys are independent');
    now += 299_999;
    assert.equal(buckets.take('a').allowed, false);
    now += 1;
    assert.equal(buckets.take('a').allowed, true);
    assert.equal(buckets.take('a').allowed, false);
  });

  it('keep at most their key limit, forgetting the least recently used', () => {
    const buckets = new TokenBuckets(1, 60_000, 3, () => 0);
    for (const key of ['a', 'b', 'c', 'd']) buckets.take(key);
    assert.equal(buckets.size, 3);
    assert.equal(buckets.take('a').allowed, true, 'the forgotten bucket is a full one');
    assert.equal(buckets.take('d').allowed, false);
  });
});

describe('client addresses', () => {
  it('count an IPv6 client by its /64 and an IPv4-mapped one as IPv4', () => {
    assert.equal(throttlingKey('2001:db8:1:2::1'), throttlingKey('2001:db8:1:2:ffff::9'));
    assert.equal(throttlingKey('2001:0db8:0001:0002:0000:0000:0000:0001'), '2001:db8:1:2::/64');
    assert.notEqual(throttlingKey('2001:db8:1:2::1'), throttlingKey('2001:db8:1:3::1'));
    assert.equal(throttlingKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(throttlingKey('192.0.2.1'), '192.0.2.1');
    assert.equal(throttlingKey('::1'), '0:0:0:0::/64');
  });
});
