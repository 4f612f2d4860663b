import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eventually, given, type TestUser } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

type LogLine = Record<string, unknown> & { msg: string };

/** A pino destination that keeps every line, as written. */
function logSink() {
  const lines: string[] = [];
  return {
    lines,
    parsed: () => lines.map((line) => JSON.parse(line) as LogLine),
    destination: { write: (line: string) => void lines.push(line) },
  };
}

const INVITE = 'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }';
const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }';

describe('failed statements in the log', () => {
  let app: TestApp;
  let owner: TestUser;
  const logs = logSink();
  before(async () => {
    app = await startTestApp({ LOG_LEVEL: 'debug' }, { logDestination: logs.destination });
    owner = await given(app).user();
  });
  after(() => app.close());

  /** Waits for the access log line of the request, so that every line it logs has been written. */
  async function served(requestId: string | null): Promise<void> {
    assert.ok(requestId);
    await eventually(() =>
      Promise.resolve(assert.ok(logs.parsed().some((line) => line.requestId === requestId && line.msg === 'request'))),
    );
  }

  it('an unexpected statement failure is logged with its SQL but without the values it was sent', async () => {
    const organization = await given(app).organization({ owner });
    // A failure no code path expects, on a statement whose parameters hold an e-mail and a token hash.
    await app.sql(`CREATE FUNCTION refuse_invitation() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'invitations are refused'; END $$`);
    await app.sql(
      'CREATE TRIGGER refuse_invitation BEFORE INSERT ON invitations FOR EACH ROW EXECUTE FUNCTION refuse_invitation()',
    );
    const email = `secret-${randomBytes(6).toString('hex')}@example.com`;
    const firstLine = logs.lines.length;
    const response = await fetch(app.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
      body: JSON.stringify({
        query: INVITE,
        variables: { input: { organizationSlug: organization.slug, email, role: 'MEMBER' } },
      }),
    });
    const body = (await response.json()) as { errors: { extensions: { code: string; errorId: string } }[] };
    assert.equal(body.errors[0].extensions.code, 'INTERNAL_SERVER_ERROR');
    await served(response.headers.get('x-request-id'));

    const logged = logs.parsed().find((line) => line.errorId === body.errors[0].extensions.errorId);
    assert.ok(logged, 'the failure is logged');
    const err = logged.err as Record<string, unknown>;
    assert.equal(err.type, 'QueryFailedError');
    assert.match(String(err.query), /INSERT INTO "platform"."invitations"/i, 'the statement is logged');
    assert.equal(err.parameters, undefined);
    const written = logs.lines.slice(firstLine).join('\n');
    assert.ok(written.includes('sql failed'), 'the SQL layer logged the failure too');
    assert.doesNotMatch(written, /"parameters"/);
    assert.ok(!written.includes(email), 'the e-mail sent with the statement is in no log line');
  });

  it("a violated key is logged without PostgreSQL's detail, which quotes the key's value", async () => {
    const email = `taken-${randomBytes(6).toString('hex')}@example.com`;
    const input = { email, password: 'a long enough password', displayName: 'Twice' };
    assert.equal((await app.gql(SIGN_UP, { input })).errors, undefined);
    const firstLine = logs.lines.length;
    const response = await fetch(app.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: SIGN_UP, variables: { input } }),
    });
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    assert.equal(body.errors[0].extensions.code, 'CONFLICT');
    await served(response.headers.get('x-request-id'));

    const lines = logs.lines.slice(firstLine);
    const failed = lines.map((line) => JSON.parse(line) as LogLine).find((line) => line.msg === 'sql failed');
    assert.ok(failed, 'the failed statement is logged');
    assert.equal((failed.err as Record<string, unknown>).constraint, 'UQ_users_email', 'what failed is kept');
    assert.ok(!lines.join('\n').includes(email), 'the e-mail is in no log line');
  });
});
