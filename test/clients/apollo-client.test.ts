import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ApolloClient } from '@apollo/client';
import { createStudioClient } from '../../examples/studio/client';
import {
  AcceptInvitationDocument,
  AddPaymentMethodDocument,
  BillingPageDocument,
  ChangePlanDocument,
  CreateOrganizationDocument,
  CreateProjectDocument,
  DashboardDocument,
  InviteMemberDocument,
  LogInDocument,
  MembersDocument,
  ProjectPageDocument,
  RenameProjectDocument,
  RotateProjectKeysDocument,
  SignUpDocument,
  UpdateBillingDetailsDocument,
  UpdateMemberRoleDocument,
} from '../../examples/studio/generated/graphql';
import { startTestApp, type TestApp } from '../support/server';
import { STUDIO_MANIFEST } from '../support/studio';

interface SentRequest {
  operationName?: string;
  query?: string;
  extensions?: { persistedQuery?: { sha256Hash?: string } };
}

/** A studio as a browser tab runs it: its own Apollo Client and cache, and a record of what it sent. */
interface Studio {
  client: ApolloClient;
  sent: SentRequest[];
  /** Signs up, then signs in as a person does; the client sends the token from then on. */
  signIn(): Promise<{ id: string; email: string }>;
}

function studio(app: TestApp): Studio {
  let token: string | null = null;
  const sent: SentRequest[] = [];
  const client = createStudioClient({
    uri: app.server.url,
    token: () => token,
    fetch: (input, init) => {
      sent.push(JSON.parse(init?.body as string) as SentRequest);
      return fetch(input, init);
    },
  });
  return {
    client,
    sent,
    async signIn() {
      const email = `studio-${randomBytes(5).toString('hex')}@example.com`;
      const password = 'a long enough password';
      await client.mutate({ mutation: SignUpDocument, variables: { input: { email, password, displayName: 'S' } } });
      const { data } = await client.mutate({ mutation: LogInDocument, variables: { input: { email, password } } });
      assert.ok(data);
      token = data.logIn.accessToken;
      return { id: data.logIn.user.id, email };
    },
  };
}

/** What the studio sends until `work` is done, by operation name. */
async function sentDuring(tab: Studio, work: () => Promise<unknown>): Promise<string[]> {
  const before = tab.sent.length;
  await work();
  return tab.sent.slice(before).map((request) => request.operationName ?? '?');
}

describe('the studio on Apollo Client, through trusted documents only', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ TRUSTED_DOCUMENTS: STUDIO_MANIFEST, TRUSTED_DOCUMENTS_ONLY: 'true' });
  });
  after(() => app.close());

  it('a renamed project and its rotated keys show on the pages in the cache without a refetch', async () => {
    const tab = studio(app);
    await tab.signIn();
    const { data: created } = await tab.client.mutate({
      mutation: CreateOrganizationDocument,
      variables: { input: { name: 'Analytical Engines', slug: `engines-${randomBytes(4).toString('hex')}` } },
    });
    assert.ok(created);
    const { data: made } = await tab.client.mutate({
      mutation: CreateProjectDocument,
      variables: { input: { organizationSlug: created.createOrganization.slug, name: 'Primary', region: 'eu-west-1' } },
    });
    assert.ok(made);
    const ref = made.createProject.ref;

    await tab.client.query({ query: DashboardDocument });
    const dashboardShows: string[] = [];
    const watcher = tab.client.watchQuery({ query: DashboardDocument }).subscribe((result) => {
      const project = result.dataState === 'complete' ? result.data.organizations.nodes[0]?.projects.nodes[0] : null;
      if (project) dashboardShows.push(project.name);
    });
    const { data: page } = await tab.client.query({ query: ProjectPageDocument, variables: { ref } });
    assert.ok(page);
    const oldKeys = page.project.credentials;
    const dashboard = () => tab.client.readQuery({ query: DashboardDocument });
    const projectPage = () => tab.client.readQuery({ query: ProjectPageDocument, variables: { ref } });
    assert.equal(dashboard()?.organizations.nodes[0].projects.nodes[0].name, 'Primary');

    const renaming = await sentDuring(tab, () =>
      tab.client.mutate({ mutation: RenameProjectDocument, variables: { ref, input: { name: 'Renamed' } } }),
    );
    assert.deepEqual(renaming, ['RenameProject'], 'the mutation alone: no refetch');
    assert.equal(dashboard()?.organizations.nodes[0].projects.nodes[0].name, 'Renamed');
    assert.equal(projectPage()?.project.name, 'Renamed');
    // A watching query hears of a cache write on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(dashboardShows.at(-1), 'Renamed', `the watching dashboard was told (${dashboardShows.join(', ')})`);

    let rotated: typeof oldKeys | undefined;
    const rotating = await sentDuring(tab, async () => {
      const { data } = await tab.client.mutate({ mutation: RotateProjectKeysDocument, variables: { ref } });
      rotated = data?.rotateProjectJwtSecret;
    });
    assert.deepEqual(rotating, ['RotateProjectKeys']);
    assert.ok(rotated);
    assert.notEqual(rotated.jwtSecret, oldKeys.jwtSecret);
    assert.notEqual(rotated.anonKey, oldKeys.anonKey);
    assert.deepEqual(projectPage()?.project.credentials, rotated, 'the project page shows the new keys');
    watcher.unsubscribe();

    // The server agrees with the cache.
    const { data: fresh } = await tab.client.query({
      query: ProjectPageDocument,
      variables: { ref },
      fetchPolicy: 'network-only',
    });
    assert.deepEqual(fresh?.project.credentials, rotated);
    assert.equal(fresh?.project.name, 'Renamed');
    for (const request of tab.sent) {
      assert.equal(request.query, undefined, `${request.operationName} was sent as a hash alone`);
      assert.match(request.extensions?.persistedQuery?.sha256Hash ?? '', /^[0-9a-f]{64}$/);
    }
  });

  it('a plan change and new billing details show on the billing page in the cache', async () => {
    const tab = studio(app);
    await tab.signIn();
    const slug = `billing-${randomBytes(4).toString('hex')}`;
    await tab.client.mutate({ mutation: CreateOrganizationDocument, variables: { input: { name: 'Billing', slug } } });
    await tab.client.mutate({
      mutation: AddPaymentMethodDocument,
      variables: { input: { organizationSlug: slug, token: 'tok_visa' } },
    });
    const { data: before } = await tab.client.query({ query: BillingPageDocument, variables: { slug } });
    assert.equal(before?.organization.billing.subscription.plan.code, 'free');
    const billingPage = () => tab.client.readQuery({ query: BillingPageDocument, variables: { slug } });

    const changing = await sentDuring(tab, () =>
      tab.client.mutate({
        mutation: ChangePlanDocument,
        variables: { input: { organizationSlug: slug, planCode: 'pro' } },
      }),
    );
    const detailing = await sentDuring(tab, () =>
      tab.client.mutate({
        mutation: UpdateBillingDetailsDocument,
        variables: { input: { organizationSlug: slug, email: 'invoices@example.com' } },
      }),
    );
    assert.deepEqual([...changing, ...detailing], ['ChangePlan', 'UpdateBillingDetails']);
    const after = billingPage()?.organization.billing;
    assert.equal(after?.subscription.id, before?.organization.billing.subscription.id);
    assert.equal(after?.subscription.plan.code, 'pro');
    assert.equal(after?.details.email, 'invoices@example.com');
  });

  it("a member's new role shows on the members page in the cache", async () => {
    const owner = studio(app);
    await owner.signIn();
    const invitee = studio(app);
    const { email } = await invitee.signIn();
    const slug = `members-${randomBytes(4).toString('hex')}`;
    await owner.client.mutate({
      mutation: CreateOrganizationDocument,
      variables: { input: { name: 'Members', slug } },
    });
    const { data: invited } = await owner.client.mutate({
      mutation: InviteMemberDocument,
      variables: { input: { organizationSlug: slug, email, role: 'MEMBER' } },
    });
    assert.ok(invited);
    const { data: joined } = await invitee.client.mutate({
      mutation: AcceptInvitationDocument,
      variables: { token: invited.inviteMember.token },
    });
    assert.ok(joined);
    await owner.client.query({ query: MembersDocument, variables: { slug } });

    const changing = await sentDuring(owner, () =>
      owner.client.mutate({
        mutation: UpdateMemberRoleDocument,
        variables: { input: { organizationSlug: slug, userId: joined.acceptInvitation.user.id, role: 'ADMIN' } },
      }),
    );
    assert.deepEqual(changing, ['UpdateMemberRole']);
    const members = owner.client.readQuery({ query: MembersDocument, variables: { slug } });
    const row = members?.organization.members.nodes.find((node) => node.id === joined.acceptInvitation.id);
    assert.equal(row?.role, 'ADMIN');
  });
});
