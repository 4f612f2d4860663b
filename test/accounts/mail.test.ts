import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, given, ok, type TestUser } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';
import { startMailCatcher, textPart, type MailCatcher } from '../support/smtp';

const STUDIO = 'https://studio.example.test';
const SIGN_UP =
  'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken refreshToken user { id email emailVerified } } }';
const LOG_IN = 'mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }';
const VERIFY = 'mutation ($token: String!) { verifyEmail(token: $token) { id emailVerified } }';
const REQUEST_RESET = 'mutation ($email: String!) { requestPasswordReset(email: $email) }';
const RESET = 'mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) }';
const CHANGE = 'mutation ($input: ChangePasswordInput!) { changePassword(input: $input) }';
const ME = '{ me { id emailVerified } }';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const email = () => `mail-${randomBytes(5).toString('hex')}@example.com`;

function codeOf(response: GraphQLResponse): string | undefined {
  return response.errors?.[0].extensions.code;
}

function fieldOf(response: GraphQLResponse): string | undefined {
  const fields = response.errors?.[0].extensions.fields as { field: string }[] | undefined;
  return fields?.[0]?.field;
}

describe('mail: verification, password reset and delivery through the outbox', () => {
  let app: TestApp;
  let smtp: MailCatcher;
  const logLines: string[] = [];
  const tokensSeen: string[] = [];

  async function signUp(address = email()): Promise<TestUser & { refreshToken: string }> {
    const password = 'a long enough password';
    const data = ok(
      await app.gql<{ signUp: { accessToken: string; refreshToken: string; user: { id: string } } }>(SIGN_UP, {
        input: { email: address, password, displayName: 'Mail User' },
      }),
    );
    return { id: data.signUp.user.id, email: address, password, ...data.signUp, token: data.signUp.accessToken };
  }

  async function token(to: string, page: string): Promise<string> {
    const found = await smtp.tokenFrom(to, page);
    tokensSeen.push(found);
    return found;
  }

  before(async () => {
    smtp = await startMailCatcher();
    app = await startTestApp(
      {
        SMTP_URL: smtp.url,
        MAIL_DISABLED: 'false',
        STUDIO_URL: STUDIO,
        MAIL_FROM: 'Platform <no-reply@example.test>',
        MAIL_RETRY_BASE_SECONDS: '1',
        LOG_LEVEL: 'debug',
      },
      { logDestination: { write: (line: string) => void logLines.push(line) } },
    );
  });
  after(async () => {
    await app.close();
    await smtp.stop();
  });

  /** The audit actions `action` recorded in the account log of user `userId`. */
  async function accountActions(userId: string, action: string): Promise<string[]> {
    const rows = await app.sql<{ action: string }>(
      'SELECT action FROM audit_events WHERE account_id = $1 AND action = $2',
      [userId, action],
    );
    return rows.map((row) => row.action);
  }

  it('sign-up e-mails a verification link whose plain text holds {STUDIO_URL}/verify-email?token=…', async () => {
    const user = await signUp();
    const mail = await smtp.waitFor(user.email, `${STUDIO}/verify-email?token=`);
    assert.match(mail.text, new RegExp(`${STUDIO}/verify-email\\?token=[A-Za-z0-9_-]{43}(\\s|$)`));
    assert.equal(mail.subject, 'Verify your e-mail address');
  });

  it('verifyEmail marks the address verified, once: the token is stored only hashed and is then used up', async () => {
    const user = await signUp();
    assert.equal(ok(await app.gql<{ me: { emailVerified: boolean } }>(ME, {}, user.token)).me.emailVerified, false);
    const verification = await token(user.email, 'verify-email');
    const [stored] = await app.sql<{ token_hash: string }>(
      "SELECT token_hash FROM account_tokens WHERE user_id = $1 AND purpose = 'email_verification'",
      [user.id],
    );
    assert.equal(stored.token_hash, sha256(verification));
    const verified = ok(await app.gql<{ verifyEmail: { emailVerified: boolean } }>(VERIFY, { token: verification }));
    assert.equal(verified.verifyEmail.emailVerified, true);
    assert.deepEqual(await accountActions(user.id, 'user.email.verify'), ['user.email.verify']);
    const again = await app.gql(VERIFY, { token: verification });
    assert.equal(codeOf(again), 'BAD_USER_INPUT');
    assert.equal(fieldOf(again), 'token');
  });

  it('an unknown or expired verification token is BAD_USER_INPUT on token and verifies nothing', async () => {
    const user = await signUp();
    const verification = await token(user.email, 'verify-email');
    await app.sql("UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1", [user.id]);
    for (const attempt of [verification, 'made-up-token']) {
      const answer = await app.gql(VERIFY, { token: attempt });
      assert.equal(codeOf(answer), 'BAD_USER_INPUT');
      assert.equal(fieldOf(answer), 'token');
    }
    assert.equal(ok(await app.gql<{ me: { emailVerified: boolean } }>(ME, {}, user.token)).me.emailVerified, false);
  });

  it('requestEmailVerification sends a new link and the earlier one stops working', async () => {
    const user = await signUp();
    const first = await token(user.email, 'verify-email');
    smtp.received.splice(0, smtp.received.length);
    ok(await app.gql('mutation { requestEmailVerification }', {}, user.token));
    const second = await token(user.email, 'verify-email');
    assert.notEqual(second, first);
    assert.equal(codeOf(await app.gql(VERIFY, { token: first })), 'BAD_USER_INPUT');
    ok(await app.gql(VERIFY, { token: second }));
  });

  it('the outbox keeps the message sealed until it is sent, then drops it', async () => {
    const user = await signUp();
    const verification = await token(user.email, 'verify-email');
    const rows = await app.sql<{ sealed_message: string | null; sent_at: Date | null }>(
      "SELECT sealed_message, sent_at FROM mail_outbox WHERE recipient = $1 AND kind = 'verify_email'",
      [user.email],
    );
    assert.equal(rows.length, 1);
    assert.ok(rows[0].sent_at);
    assert.equal(rows[0].sealed_message, null);
    const leaked = await app.sql('SELECT 1 FROM mail_outbox WHERE sealed_message LIKE $1', [`%${verification}%`]);
    assert.equal(leaked.length, 0);
  });

  it('a mail server that is down delays mail without losing it: sent once it is back, sealed meanwhile', async () => {
    await smtp.stop();
    try {
      const user = await signUp();
      await eventually(async () => {
        const [row] = await app.sql<{ attempts: number; last_error: string | null; sealed_message: string }>(
          'SELECT attempts, last_error, sealed_message FROM mail_outbox WHERE recipient = $1',
          [user.email],
        );
        assert.ok(row && row.attempts >= 1 && row.last_error, 'a failed attempt is recorded');
        assert.match(row.sealed_message, /^enc:v1:/);
      }, 15_000);
      await smtp.start();
      const verification = await token(user.email, 'verify-email');
      const [row] = await app.sql<{ sealed_message: string | null }>(
        'SELECT sealed_message FROM mail_outbox WHERE recipient = $1',
        [user.email],
      );
      assert.equal(row.sealed_message, null);
      ok(await app.gql(VERIFY, { token: verification }));
    } finally {
      await smtp.start().catch(() => undefined);
    }
  });

  it('a change that rolls back sends no mail: no user, no outbox row, no job', async () => {
    const address = email();
    // A fault after the mail was written: the session's insert fails for this client alone.
    await app.sql(`CREATE OR REPLACE FUNCTION platform.test_refuse_session() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN IF NEW.user_agent = 'refuse-me' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
    await app.sql(`CREATE TRIGGER test_refuse_session BEFORE INSERT ON platform.sessions
      FOR EACH ROW EXECUTE FUNCTION platform.test_refuse_session()`);
    try {
      const response = await fetch(app.server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'refuse-me' },
        body: JSON.stringify({
          query: SIGN_UP,
          variables: { input: { email: address, password: 'a long enough password', displayName: 'Rolled Back' } },
        }),
      });
      const body = (await response.json()) as { errors?: unknown[] };
      assert.ok(body.errors, 'the sign-up failed');
    } finally {
      await app.sql('DROP TRIGGER test_refuse_session ON platform.sessions');
      await app.sql('DROP FUNCTION platform.test_refuse_session()');
    }
    assert.equal((await app.sql('SELECT 1 FROM users WHERE email = $1', [address])).length, 0);
    assert.equal((await app.sql('SELECT 1 FROM mail_outbox WHERE recipient = $1', [address])).length, 0);
    // A later mail arrives; the rolled-back one never does.
    const later = await signUp();
    await smtp.waitFor(later.email, '/verify-email?token=');
    assert.ok(!smtp.received.some((mail) => mail.to.includes(address)));
  });

  it('requestPasswordReset answers true for any address, and e-mails a single-use link to an account’s only', async () => {
    const user = await signUp();
    const stranger = email();
    assert.equal(
      ok(await app.gql<{ requestPasswordReset: boolean }>(REQUEST_RESET, { email: stranger })).requestPasswordReset,
      true,
    );
    ok(await app.gql(REQUEST_RESET, { email: user.email.toUpperCase() }));
    const reset = await token(user.email, 'reset-password');
    assert.ok((await smtp.waitFor(user.email, `${STUDIO}/reset-password?token=${reset}`)).text);
    const [stored] = await app.sql<{ token_hash: string }>(
      "SELECT token_hash FROM account_tokens WHERE user_id = $1 AND purpose = 'password_reset'",
      [user.id],
    );
    assert.equal(stored.token_hash, sha256(reset));
    assert.ok(!smtp.received.some((mail) => mail.to.includes(stranger)), 'no mail to an unknown address');
    // The job that made the link records it, in the account's own log (acted by the system).
    assert.deepEqual(await accountActions(user.id, 'user.password_reset.request'), ['user.password_reset.request']);

    const other = ok(
      await app.gql<{ logIn: { accessToken: string } }>(LOG_IN, {
        input: { email: user.email, password: user.password },
      }),
    );
    // A personal access token made before (by whoever held the account) ends with the reset.
    const pat = ok(
      await app.gql<{ createPersonalAccessToken: { secret: string } }>(
        'mutation { createPersonalAccessToken(input: { name: "before the reset" }) { secret } }',
        {},
        user.token,
      ),
    ).createPersonalAccessToken.secret;
    ok(await app.gql(ME, {}, pat));
    ok(await app.gql(RESET, { input: { token: reset, newPassword: 'a brand new password' } }));
    assert.equal(codeOf(await app.gql(ME, {}, pat)), 'UNAUTHENTICATED');
    assert.deepEqual(await accountActions(user.id, 'user.password.reset'), ['user.password.reset']);
    // Every session ends, the one that asked included.
    assert.equal(codeOf(await app.gql(ME, {}, user.token)), 'UNAUTHENTICATED');
    assert.equal(codeOf(await app.gql(ME, {}, other.logIn.accessToken)), 'UNAUTHENTICATED');
    assert.equal(
      codeOf(
        await app.gql('mutation ($t: String!) { refreshSession(refreshToken: $t) { accessToken } }', {
          t: user.refreshToken,
        }),
      ),
      'UNAUTHENTICATED',
    );
    assert.equal(
      codeOf(await app.gql(LOG_IN, { input: { email: user.email, password: user.password } })),
      'UNAUTHENTICATED',
    );
    ok(await app.gql(LOG_IN, { input: { email: user.email, password: 'a brand new password' } }));
    const reused = await app.gql(RESET, { input: { token: reset, newPassword: 'yet another password' } });
    assert.equal(codeOf(reused), 'BAD_USER_INPUT');
    assert.equal(fieldOf(reused), 'token');
  });

  it('an expired or unknown reset token is BAD_USER_INPUT on token and changes no password', async () => {
    const user = await signUp();
    ok(await app.gql(REQUEST_RESET, { email: user.email }));
    const reset = await token(user.email, 'reset-password');
    await app.sql("UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1", [user.id]);
    for (const attempt of [reset, 'made-up-token']) {
      const answer = await app.gql(RESET, { input: { token: attempt, newPassword: 'a brand new password' } });
      assert.equal(codeOf(answer), 'BAD_USER_INPUT');
      assert.equal(fieldOf(answer), 'token');
    }
    ok(await app.gql(LOG_IN, { input: { email: user.email, password: user.password } }));
    ok(await app.gql(ME, {}, user.token));
  });

  it('changePassword needs the current password, and ends every other session but this one', async () => {
    const user = await signUp();
    const other = ok(
      await app.gql<{ logIn: { accessToken: string } }>(LOG_IN, {
        input: { email: user.email, password: user.password },
      }),
    );
    const wrong = await app.gql(
      CHANGE,
      { input: { currentPassword: 'not my password', newPassword: 'a brand new password' } },
      user.token,
    );
    assert.equal(codeOf(wrong), 'BAD_USER_INPUT');
    assert.equal(fieldOf(wrong), 'currentPassword');
    ok(await app.gql(ME, {}, other.logIn.accessToken));
    ok(
      await app.gql(
        CHANGE,
        { input: { currentPassword: user.password, newPassword: 'a brand new password' } },
        user.token,
      ),
    );
    ok(await app.gql(ME, {}, user.token));
    assert.equal(codeOf(await app.gql(ME, {}, other.logIn.accessToken)), 'UNAUTHENTICATED');
    ok(await app.gql(LOG_IN, { input: { email: user.email, password: 'a brand new password' } }));
  });

  it('no token (refresh, verification, reset, access) appears in the log', async () => {
    const user = await signUp();
    await token(user.email, 'verify-email');
    const log = logLines.join('\n');
    assert.ok(logLines.length > 50 && log.includes('mail sent'), 'the log was captured');
    for (const secret of [...tokensSeen, user.refreshToken, user.token]) {
      assert.ok(!log.includes(secret), `a token is in the log: ${secret.slice(0, 6)}…`);
    }
  });
});

describe('REQUIRE_VERIFIED_EMAIL', () => {
  let app: TestApp;
  let smtp: MailCatcher;
  before(async () => {
    smtp = await startMailCatcher();
    app = await startTestApp({
      SMTP_URL: smtp.url,
      MAIL_DISABLED: 'false',
      REQUIRE_VERIFIED_EMAIL: 'true',
      MAIL_RETRY_BASE_SECONDS: '1',
    });
  });
  after(async () => {
    await app.close();
    await smtp.stop();
  });

  it('an unverified user signs in but cannot create an organization nor accept an invitation, and is told why', async () => {
    const make = given(app);
    const owner = await make.user();
    const ownerToken = await smtp.tokenFrom(owner.email, 'verify-email');
    const create = 'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { slug } }';
    const refused = await app.gql(create, { input: { name: 'Unverified' } }, owner.token);
    assert.equal(codeOf(refused), 'FORBIDDEN');
    assert.match(refused.errors?.[0].message ?? '', /Verify your e-mail address.*REQUIRE_VERIFIED_EMAIL/);
    assert.equal((await app.sql("SELECT 1 FROM organizations WHERE name = 'Unverified'")).length, 0);
    ok(await app.gql(VERIFY, { token: ownerToken }));
    const organization = await make.organization({ owner });

    const invitee = await make.user();
    const invited = ok(
      await app.gql<{ inviteMember: { token: string } }>(
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }',
        { input: { organizationSlug: organization.slug, email: invitee.email, role: 'MEMBER' } },
        owner.token,
      ),
    );
    const accept = 'mutation ($token: String!) { acceptInvitation(token: $token) { role } }';
    const notYet = await app.gql(accept, { token: invited.inviteMember.token }, invitee.token);
    assert.equal(codeOf(notYet), 'FORBIDDEN');
    assert.match(notYet.errors?.[0].message ?? '', /Verify your e-mail address/);
    ok(await app.gql(VERIFY, { token: await smtp.tokenFrom(invitee.email, 'verify-email') }));
    ok(await app.gql(accept, { token: invited.inviteMember.token }, invitee.token));
  });
});

describe('mail without SMTP_URL, outside production', () => {
  it('is written as an .eml file under DATA_DIR/mail, and the log says where', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'platform-api-mail-'));
    const lines: string[] = [];
    const app = await startTestApp(
      { MAIL_DISABLED: 'false', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
      { logDestination: { write: (line: string) => void lines.push(line) } },
    );
    try {
      const user = await given(app).user();
      let file = '';
      await eventually(async () => {
        const written = lines.map((line) => JSON.parse(line) as { msg: string; file?: string });
        file = written.find((line) => line.msg.startsWith('mail written as a file'))?.file ?? '';
        assert.ok(file, 'the log names the file');
        await Promise.resolve();
      }, 15_000);
      assert.equal(path.dirname(file), path.join(dataDir, 'mail'));
      const text = textPart(readFileSync(file, 'utf8'));
      assert.match(text, /http:\/\/localhost:3000\/verify-email\?token=[A-Za-z0-9_-]{43}/);
      assert.ok(readFileSync(file, 'utf8').includes(`To: ${user.email}`));
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
