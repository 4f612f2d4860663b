import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DAY_MS,
  given,
  holdRowLock,
  lockWaiters,
  ok,
  runScheduledJobs,
  untilActive,
  untilStatus,
  withoutChanges,
  type TestOrganization,
  type TestProject,
  type TestUser,
} from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

const PAY =
  'mutation ($slug: String!, $id: ID!) { payInvoice(organizationSlug: $slug, invoiceId: $id) { status paidAt } }';
const MARK_PAID =
  'mutation ($slug: String!, $id: ID!) { markInvoicePaid(organizationSlug: $slug, invoiceId: $id) { status } }';
const SUSPEND =
  'mutation ($slug: String!, $reason: String!) { suspendOrganization(slug: $slug, reason: $reason) { status } }';
const STANDING = `query ($slug: String!) {
  organization(slug: $slug) { status suspensionReason billing { subscription { status } } }
}`;
const SET_DEFAULT =
  'mutation ($slug: String!, $id: ID!) { setDefaultPaymentMethod(organizationSlug: $slug, id: $id) { isDefault } }';

function codes(response: GraphQLResponse<unknown>): string[] {
  return (response.errors ?? []).map((error) => error.extensions.code);
}

interface Owing {
  owner: TestUser;
  organization: TestOrganization;
  project: TestProject;
  invoice: { id: string; issuedAt: Date };
}

describe('collecting what organizations owe', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  let admin: TestUser;
  before(async () => {
    app = await startTestApp();
    make = given(app);
    admin = await make.platformUser();
  });
  after(() => app.close());

  /** On pro with a card that declines: its first period's invoice is open, the subscription past due. */
  async function owing(): Promise<Owing> {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const project = await make.project({ organization, by: owner });
    await untilActive(app, project);
    await make.paymentMethod({ organization, by: owner, token: 'tok_chargeDeclined' });
    await make.changePlan({ organization, by: owner, plan: 'pro' });
    const period = await make.closePeriod({ organization });
    assert.equal(period.invoice?.status, 'open');
    const [row] = await app.sql<{ issued_at: Date }>('SELECT issued_at FROM invoices WHERE id = $1', [
      period.invoice.id,
    ]);
    return { owner, organization, project, invoice: { id: period.invoice.id, issuedAt: row.issued_at } };
  }

  async function standing(scene: Owing) {
    return ok(
      await app.gql<{
        organization: {
          status: string;
          suspensionReason: string | null;
          billing: { subscription: { status: string } };
        };
      }>(STANDING, { slug: scene.organization.slug }, scene.owner.token),
    ).organization;
  }

  async function goodCard(scene: Owing): Promise<void> {
    const card = await make.paymentMethod({ organization: scene.organization, by: scene.owner, token: 'tok_visa' });
    ok(await app.gql(SET_DEFAULT, { slug: scene.organization.slug, id: card.id }, scene.owner.token));
  }

  it('payInvoice with a declining card is PAYMENT_DECLINED and leaves the invoice open', async () => {
    const scene = await owing();
    const refused = await withoutChanges(app, () =>
      app.gql(PAY, { slug: scene.organization.slug, id: scene.invoice.id }, scene.owner.token),
    );
    assert.deepEqual(codes(refused), ['PAYMENT_DECLINED']);
    assert.equal((await standing(scene)).billing.subscription.status, 'PAST_DUE');
  });

  it('payInvoice charges the default card now and answers the invoice paid; the subscription is active again', async () => {
    const scene = await owing();
    await goodCard(scene);
    const { payInvoice } = ok(
      await app.gql<{ payInvoice: { status: string; paidAt: string } }>(
        PAY,
        { slug: scene.organization.slug, id: scene.invoice.id },
        scene.owner.token,
      ),
    );
    assert.equal(payInvoice.status, 'PAID');
    assert.equal((await standing(scene)).billing.subscription.status, 'ACTIVE');
    const again = await withoutChanges(app, () =>
      app.gql(PAY, { slug: scene.organization.slug, id: scene.invoice.id }, scene.owner.token),
    );
    assert.deepEqual(codes(again), ['CONFLICT']);
  });

  it('a member who may not manage billing cannot pay', async () => {
    const scene = await owing();
    const member = await make.member({ organization: scene.organization, role: 'ADMIN', by: scene.owner });
    const refused = await withoutChanges(app, () =>
      app.gql(PAY, { slug: scene.organization.slug, id: scene.invoice.id }, member.token),
    );
    assert.deepEqual(codes(refused), ['FORBIDDEN']);
  });

  it('retries a declined charge on the days of PAYMENT_RETRY_DAYS, and not before', async () => {
    const scene = await owing();
    const retries = async () =>
      (
        await app.sql<{ payment_retries: number; status: string }>(
          'SELECT payment_retries, status FROM invoices WHERE id = $1',
          [scene.invoice.id],
        )
      )[0];
    const at = (days: number) => new Date(scene.invoice.issuedAt.getTime() + days * DAY_MS + 60_000);
    assert.equal((await runScheduledJobs(app, at(0.5))).code, 0);
    assert.deepEqual(await retries(), { payment_retries: 0, status: 'open' }, 'the first retry is a day after issue');
    assert.equal((await runScheduledJobs(app, at(1))).code, 0);
    assert.deepEqual(await retries(), { payment_retries: 1, status: 'open' }, 'declined again');
    assert.equal((await runScheduledJobs(app, at(2))).code, 0);
    assert.deepEqual(await retries(), { payment_retries: 1, status: 'open' }, 'the next retry is on day 3');
    await goodCard(scene);
    assert.equal((await runScheduledJobs(app, at(3))).code, 0);
    assert.equal((await retries()).status, 'paid');
    assert.equal((await standing(scene)).billing.subscription.status, 'ACTIVE');
  });

  it('an invoice open longer than PAST_DUE_SUSPEND_DAYS suspends its organization (past_due) and pauses its projects; paying lifts it', async () => {
    const scene = await owing();
    const env = { PAST_DUE_SUSPEND_DAYS: '10' };
    assert.equal((await runScheduledJobs(app, new Date(scene.invoice.issuedAt.getTime() + 9 * DAY_MS), env)).code, 0);
    assert.equal((await standing(scene)).status, 'ACTIVE');
    assert.equal((await runScheduledJobs(app, new Date(scene.invoice.issuedAt.getTime() + 10 * DAY_MS), env)).code, 0);
    assert.deepEqual(
      { ...(await standing(scene)), billing: undefined },
      { status: 'SUSPENDED', suspensionReason: 'past_due', billing: undefined },
    );
    await untilStatus(app, scene.project, 'PAUSED');
    const refused = await app.gql(
      'mutation ($ref: String!) { restoreProject(ref: $ref) { status } }',
      { ref: scene.project.ref },
      scene.owner.token,
    );
    assert.deepEqual(codes(refused), ['ORGANIZATION_SUSPENDED']);
    assert.equal(refused.errors?.[0].extensions.reason, 'past_due');
    await goodCard(scene);
    ok(await app.gql(PAY, { slug: scene.organization.slug, id: scene.invoice.id }, scene.owner.token));
    assert.equal((await standing(scene)).status, 'ACTIVE');
    const [project] = await app.sql<{ status: string }>('SELECT status FROM projects WHERE id = $1', [
      scene.project.id,
    ]);
    assert.equal(project.status, 'PAUSED', 'the owners restore their projects');
  });

  it("the collection asks again under the organization's lock: an admin's suspension meanwhile stays the admin's", async () => {
    const scene = await owing();
    const held = await holdRowLock(app, 'organizations', scene.organization.id);
    // No retry of the charge is due: the suspension is the only thing that waits for the lock.
    const collection = runScheduledJobs(app, new Date(scene.invoice.issuedAt.getTime() + 10 * DAY_MS), {
      PAST_DUE_SUSPEND_DAYS: '10',
      PAYMENT_RETRY_DAYS: '20',
    });
    // The collection read the organization as past due, and waits for its lock.
    await lockWaiters(app, 1);
    await held.release({
      sql: `UPDATE organizations SET suspended_at = now(), suspension_reason = 'Abuse', suspension_kind = 'admin'
            WHERE id = $1`,
      params: [scene.organization.id],
    });
    assert.equal((await collection).code, 0);
    const [row] = await app.sql<{ suspension_reason: string; suspension_kind: string }>(
      'SELECT suspension_reason, suspension_kind FROM organizations WHERE id = $1',
      [scene.organization.id],
    );
    assert.deepEqual({ ...row }, { suspension_reason: 'Abuse', suspension_kind: 'admin' });
  });

  it("a platform admin's markInvoicePaid lifts a past_due suspension too", async () => {
    const scene = await owing();
    assert.equal((await runScheduledJobs(app, new Date(scene.invoice.issuedAt.getTime() + 15 * DAY_MS))).code, 0);
    assert.equal((await standing(scene)).status, 'SUSPENDED');
    ok(await app.gql(MARK_PAID, { slug: scene.organization.slug, id: scene.invoice.id }, admin.token));
    assert.equal((await standing(scene)).status, 'ACTIVE');
  });

  it('settling never lifts a suspension a platform admin set', async () => {
    const scene = await owing();
    ok(await app.gql(SUSPEND, { slug: scene.organization.slug, reason: 'Abuse report 1234' }, admin.token));
    await goodCard(scene);
    ok(await app.gql(PAY, { slug: scene.organization.slug, id: scene.invoice.id }, scene.owner.token));
    assert.deepEqual(
      { ...(await standing(scene)), billing: undefined },
      { status: 'SUSPENDED', suspensionReason: 'Abuse report 1234', billing: undefined },
    );
  });
});

describe('a complimentary plan (setOrganizationPlan)', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  before(async () => {
    app = await startTestApp();
    make = given(app);
  });
  after(() => app.close());
  const SET_PLAN = `mutation ($input: SetOrganizationPlanInput!) {
    setOrganizationPlan(input: $input) { plan complimentaryUntil }
  }`;

  it('gives a paid plan without a payment method, charges nothing for it, and goes back to the plan before at until', async () => {
    const admin = await make.platformUser();
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const until = new Date(Date.now() + 40 * DAY_MS);
    const given = ok(
      await app.gql<{ setOrganizationPlan: { plan: string; complimentaryUntil: string } }>(
        SET_PLAN,
        { input: { slug: organization.slug, plan: 'team', until: until.toISOString() } },
        admin.token,
      ),
    );
    assert.deepEqual(given.setOrganizationPlan, { plan: 'team', complimentaryUntil: until.toISOString() });
    // The team plan's limits hold: more projects than free allows.
    for (let i = 0; i < 3; i += 1) await make.project({ organization, by: owner, name: `P${i}` });
    const period = await make.closePeriod({ organization });
    assert.equal(period.invoice, null, 'nothing was charged for the complimentary plan');
    assert.equal((await runScheduledJobs(app, new Date(until.getTime() + 60_000))).code, 0);
    const [row] = await app.sql<{ code: string; complimentary_until: Date | null }>(
      "SELECT p.code, s.complimentary_until FROM subscriptions s JOIN plans p ON p.id = s.plan_id WHERE s.organization_id = $1 AND s.status <> 'canceled'",
      [organization.id],
    );
    assert.deepEqual(row, { code: 'free', complimentary_until: null });
  });

  it('refuses an until in the past and an unknown plan with BAD_USER_INPUT naming the field, changing nothing', async () => {
    const admin = await make.platformUser();
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const cases: [Record<string, unknown>, string][] = [
      [{ slug: organization.slug, plan: 'team', until: new Date(Date.now() - DAY_MS).toISOString() }, 'until'],
      [{ slug: organization.slug, plan: 'gold', until: new Date(Date.now() + DAY_MS).toISOString() }, 'plan'],
    ];
    for (const [input, field] of cases) {
      const refused = await withoutChanges(app, () => app.gql(SET_PLAN, { input }, admin.token));
      assert.deepEqual(codes(refused), ['BAD_USER_INPUT']);
      assert.deepEqual(
        (refused.errors?.[0].extensions.fields as { field: string }[]).map((f) => f.field),
        [field],
      );
    }
  });
});

describe('BILLING_ENABLED=false', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  before(async () => {
    app = await startTestApp({ BILLING_ENABLED: 'false' });
    make = given(app);
  });
  after(() => app.close());

  it('has no plans, no plan limits, and answers billing reads and changes with BILLING_DISABLED', async () => {
    assert.deepEqual(ok(await app.gql('{ plans { code } }')), { plans: [] });
    const owner = await make.user();
    const organization = await make.organization({ owner });
    for (let i = 0; i < 4; i += 1) {
      // Up before the checks below, which compare the tables: no start finishes between two snapshots.
      await untilActive(app, await make.project({ organization, by: owner, name: `P${i}` }));
    }
    const billing = await app.gql(
      'query ($slug: String!) { organization(slug: $slug) { slug billing { id } } }',
      { slug: organization.slug },
      owner.token,
    );
    assert.deepEqual(codes(billing), ['BILLING_DISABLED']);
    const attempts: [string, Record<string, unknown>][] = [
      [
        'mutation ($input: ChangePlanInput!) { changePlan(input: $input) { status } }',
        { input: { organizationSlug: organization.slug, planCode: 'pro' } },
      ],
      [
        'mutation ($input: AddPaymentMethodInput!) { addPaymentMethod(input: $input) { id } }',
        { input: { organizationSlug: organization.slug, token: 'tok_visa' } },
      ],
      [
        'mutation ($slug: String!) { cancelSubscription(organizationSlug: $slug) { status } }',
        { slug: organization.slug },
      ],
    ];
    for (const [document, variables] of attempts) {
      assert.deepEqual(
        codes(await withoutChanges(app, () => app.gql(document, variables, owner.token))),
        ['BILLING_DISABLED'],
        document,
      );
    }
  });

  it('closes no period', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const before = await app.sql('SELECT * FROM subscriptions WHERE organization_id = $1', [organization.id]);
    const ran = await runScheduledJobs(app, new Date(Date.now() + 70 * DAY_MS), { BILLING_ENABLED: 'false' });
    assert.equal(ran.code, 0, ran.output);
    assert.deepEqual(
      await app.sql('SELECT * FROM subscriptions WHERE organization_id = $1', [organization.id]),
      before,
    );
    assert.deepEqual(await app.sql('SELECT id FROM invoices WHERE organization_id = $1', [organization.id]), []);
  });
});

describe('TRIAL_DAYS', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  before(async () => {
    app = await startTestApp({ TRIAL_DAYS: '14' });
    make = given(app);
  });
  after(() => app.close());

  it("gives a new organization the pro plan's limits without a card until trialEndsAt, shown as TRIALING; then the free plan's", async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const read = ok(
      await app.gql<{
        organization: { trialEndsAt: string; billing: { subscription: { status: string; plan: { code: string } } } };
      }>(
        'query ($slug: String!) { organization(slug: $slug) { trialEndsAt billing { subscription { status plan { code } } } } }',
        { slug: organization.slug },
        owner.token,
      ),
    ).organization;
    assert.deepEqual(read.billing.subscription, { status: 'TRIALING', plan: { code: 'free' } });
    const days = (new Date(read.trialEndsAt).getTime() - Date.now()) / DAY_MS;
    assert.ok(days > 13.9 && days <= 14, String(days));
    for (let i = 0; i < 3; i += 1) await make.project({ organization, by: owner, name: `P${i}` });
    await app.sql("UPDATE organizations SET trial_ends_at = now() - interval '1 second' WHERE id = $1", [
      organization.id,
    ]);
    const over = await app.gql(
      'mutation ($input: CreateProjectInput!) { createProject(input: $input) { ref } }',
      { input: { organizationSlug: organization.slug, name: 'After the trial', region: 'eu-west-1' } },
      owner.token,
    );
    assert.deepEqual(codes(over), ['PLAN_LIMIT_REACHED']);
  });
});
