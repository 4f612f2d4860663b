import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { given, ok, type TestOrganization, type TestUser } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';
import { startMailCatcher, type MailCatcher } from '../support/smtp';

const STUDIO = 'https://studio.example.test';
const INVITE =
  'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token invitation { id email role invitedBy { id } } } }';
const ACCEPT = 'mutation ($token: String!) { acceptInvitation(token: $token) { role } }';
const LIST = `query ($slug: String!, $first: Int, $after: String) { organization(slug: $slug) {
  invitations(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id email role expiresAt createdAt invitedBy { id email } } } } }`;
const REVOKE = 'mutation ($id: ID!) { revokeInvitation(id: $id) }';
const RESEND = 'mutation ($id: ID!) { resendInvitation(id: $id) { id email role expiresAt invitedBy { id } } }';
const SECRETS = `query ($ref: String!) { project(ref: $ref) { credentials { jwtSecret serviceRoleKey } } }`;

interface Invited {
  token: string;
  invitation: { id: string; email: string; role: string; invitedBy: { id: string } | null };
}

function codeOf(response: GraphQLResponse): string | undefined {
  return response.errors?.[0].extensions.code;
}

const address = () => `invitee-${randomBytes(5).toString('hex')}@example.com`;

describe('invitations', () => {
  let app: TestApp;
  let smtp: MailCatcher;
  let owner: TestUser;
  let organization: TestOrganization;

  async function invite(by: TestUser, email: string, role: string, slug = organization.slug): Promise<Invited> {
    return ok(
      await app.gql<{ inviteMember: Invited }>(INVITE, { input: { organizationSlug: slug, email, role } }, by.token),
    ).inviteMember;
  }

  before(async () => {
    smtp = await startMailCatcher();
    app = await startTestApp({
      SMTP_URL: smtp.url,
      MAIL_DISABLED: 'false',
      STUDIO_URL: STUDIO,
      MAIL_RETRY_BASE_SECONDS: '1',
    });
    owner = await given(app).user();
    organization = await given(app).organization({ owner, name: 'Acme Invitations' });
  });
  after(async () => {
    await app.close();
    await smtp.stop();
  });

  it('inviteMember e-mails {STUDIO_URL}/accept-invitation?token=… and still returns the token once', async () => {
    const email = address();
    const invited = await invite(owner, email, 'MEMBER');
    const mail = await smtp.waitFor(email, `${STUDIO}/accept-invitation?token=${invited.token}`);
    assert.match(mail.subject, /Acme Invitations/);
    assert.ok(mail.text.includes(owner.email));
    assert.equal(invited.invitation.invitedBy?.id, owner.id);
  });

  it('those who may invite list the pending invitations, page by page, with who sent each', async () => {
    const [a, b] = [address(), address()];
    await invite(owner, a, 'VIEWER');
    await invite(owner, b, 'ADMIN');
    type Listed = {
      organization: {
        invitations: {
          totalCount: number;
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
          nodes: { email: string; role: string; invitedBy: { id: string; email: string } }[];
        };
      };
    };
    const all = ok(await app.gql<Listed>(LIST, { slug: organization.slug, first: 100 }, owner.token)).organization
      .invitations;
    const mine = all.nodes.filter((node) => [a, b].includes(node.email));
    assert.deepEqual(
      mine.map((node) => [node.email, node.role, node.invitedBy.email]),
      [
        [a, 'VIEWER', owner.email],
        [b, 'ADMIN', owner.email],
      ],
    );
    const first = ok(await app.gql<Listed>(LIST, { slug: organization.slug, first: 1 }, owner.token)).organization
      .invitations;
    assert.equal(first.nodes.length, 1);
    assert.equal(first.totalCount, all.totalCount);
    assert.equal(first.pageInfo.hasNextPage, true);
    const second = ok(
      await app.gql<Listed>(LIST, { slug: organization.slug, first: 1, after: first.pageInfo.endCursor }, owner.token),
    ).organization.invitations;
    assert.notEqual(second.nodes[0].email, first.nodes[0].email);
  });

  it('a member who may not invite cannot list, revoke or resend invitations, and changes nothing', async () => {
    const member = await given(app).member({ organization, role: 'MEMBER', by: owner });
    const invited = await invite(owner, address(), 'VIEWER');
    assert.equal(codeOf(await app.gql(LIST, { slug: organization.slug }, member.token)), 'FORBIDDEN');
    assert.equal(codeOf(await app.gql(REVOKE, { id: invited.invitation.id }, member.token)), 'FORBIDDEN');
    assert.equal(codeOf(await app.gql(RESEND, { id: invited.invitation.id }, member.token)), 'FORBIDDEN');
    const joiner = await given(app).user({ email: invited.invitation.email });
    ok(await app.gql(ACCEPT, { token: invited.token }, joiner.token));
  });

  it('revokeInvitation withdraws it: its link stops working', async () => {
    const email = address();
    const invited = await invite(owner, email, 'MEMBER');
    assert.equal(
      ok(await app.gql<{ revokeInvitation: boolean }>(REVOKE, { id: invited.invitation.id }, owner.token))
        .revokeInvitation,
      true,
    );
    const joiner = await given(app).user({ email });
    assert.equal(codeOf(await app.gql(ACCEPT, { token: invited.token }, joiner.token)), 'NOT_FOUND');
    assert.equal(codeOf(await app.gql(REVOKE, { id: invited.invitation.id }, owner.token)), 'NOT_FOUND');
  });

  it('resendInvitation mails a fresh link and the old one stops working', async () => {
    const email = address();
    const invited = await invite(owner, email, 'MEMBER');
    await smtp.waitFor(email, invited.token);
    ok(await app.gql(RESEND, { id: invited.invitation.id }, owner.token));
    await smtp.waitFor(email, 'accept-invitation?token=', 15_000);
    let fresh = '';
    await (async () => {
      for (let i = 0; i < 300 && !fresh; i += 1) {
        const links = smtp.received
          .filter((mail) => mail.to.includes(email))
          .map((mail) => /accept-invitation\?token=([A-Za-z0-9_-]+)/.exec(mail.text)?.[1] ?? '');
        fresh = links.find((token) => token && token !== invited.token) ?? '';
        if (!fresh) await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    assert.ok(fresh, 'a second mail with a new token');
    const joiner = await given(app).user({ email });
    assert.equal(codeOf(await app.gql(ACCEPT, { token: invited.token }, joiner.token)), 'NOT_FOUND');
    ok(await app.gql(ACCEPT, { token: fresh }, joiner.token));
  });

  it("an admin cannot revoke or resend an owner's invitation to an owner", async () => {
    const admin = await given(app).member({ organization, role: 'ADMIN', by: owner });
    const invited = await invite(owner, address(), 'OWNER');
    assert.equal(codeOf(await app.gql(REVOKE, { id: invited.invitation.id }, admin.token)), 'FORBIDDEN');
    assert.equal(codeOf(await app.gql(RESEND, { id: invited.invitation.id }, admin.token)), 'FORBIDDEN');
  });

  describe('an invitation is only as good as its inviter', () => {
    it('the attack of the issue fails: an admin removed by the owner cannot come back through an invitation of their own', async () => {
      const make = given(app);
      const team = await make.organization({ owner });
      const project = await make.project({ organization: team, by: owner });
      const admin = await make.member({ organization: team, role: 'ADMIN', by: owner });
      const secondAddress = address();
      const planted = await invite(admin, secondAddress, 'ADMIN', team.slug);
      ok(
        await app.gql(
          'mutation ($slug: String!, $id: ID!) { removeMember(organizationSlug: $slug, userId: $id) }',
          { slug: team.slug, id: admin.id },
          owner.token,
        ),
      );
      const [left] = await app.sql<{ n: string }>('SELECT count(*) AS n FROM invitations WHERE id = $1', [
        planted.invitation.id,
      ]);
      assert.equal(Number(left.n), 0, 'revoked in the removal’s transaction');
      const alias = await make.user({ email: secondAddress });
      assert.equal(codeOf(await app.gql(ACCEPT, { token: planted.token }, alias.token)), 'NOT_FOUND');
      assert.equal(codeOf(await app.gql(SECRETS, { ref: project.ref }, alias.token)), 'NOT_FOUND');
      assert.equal((await app.sql('SELECT 1 FROM user_roles WHERE user_id = $1', [alias.id])).length, 0);
    });

    it('an inviter who leaves takes their pending invitations with them', async () => {
      const make = given(app);
      const team = await make.organization({ owner });
      const admin = await make.member({ organization: team, role: 'ADMIN', by: owner });
      const email = address();
      const planted = await invite(admin, email, 'MEMBER', team.slug);
      ok(
        await app.gql('mutation ($slug: String!) { leaveOrganization(slug: $slug) }', { slug: team.slug }, admin.token),
      );
      const joiner = await make.user({ email });
      assert.equal(codeOf(await app.gql(ACCEPT, { token: planted.token }, joiner.token)), 'NOT_FOUND');
    });

    it('a demoted inviter loses the invitations their new role cannot send, and keeps the others', async () => {
      const make = given(app);
      const team = await make.organization({ owner });
      const coOwner = await make.member({ organization: team, role: 'OWNER', by: owner });
      const [ownerInvitee, memberInvitee] = [address(), address()];
      const toOwner = await invite(coOwner, ownerInvitee, 'OWNER', team.slug);
      const toMember = await invite(coOwner, memberInvitee, 'MEMBER', team.slug);
      ok(
        await app.gql(
          'mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }',
          { input: { organizationSlug: team.slug, userId: coOwner.id, role: 'ADMIN' } },
          owner.token,
        ),
      );
      const would = await make.user({ email: ownerInvitee });
      assert.equal(codeOf(await app.gql(ACCEPT, { token: toOwner.token }, would.token)), 'NOT_FOUND');
      const member = await make.user({ email: memberInvitee });
      assert.equal(
        ok(await app.gql<{ acceptInvitation: { role: string } }>(ACCEPT, { token: toMember.token }, member.token))
          .acceptInvitation.role,
        'MEMBER',
      );
    });

    it('acceptance checks again that the inviter may still grant the role', async () => {
      const make = given(app);
      const team = await make.organization({ owner });
      const admin = await make.member({ organization: team, role: 'ADMIN', by: owner });
      const email = address();
      const planted = await invite(admin, email, 'ADMIN', team.slug);
      // A demotion that went around the API (an operator's SQL): the invitation itself is left.
      await app.sql("UPDATE user_roles SET role = 'member' WHERE organization_id = $1 AND user_id = $2", [
        team.id,
        admin.id,
      ]);
      const joiner = await make.user({ email });
      const refused = await app.gql(ACCEPT, { token: planted.token }, joiner.token);
      assert.equal(codeOf(refused), 'FORBIDDEN');
      assert.match(refused.errors?.[0].message ?? '', /can no longer grant this role/);
      assert.equal((await app.sql('SELECT 1 FROM user_roles WHERE user_id = $1', [joiner.id])).length, 0);
    });
  });
});
