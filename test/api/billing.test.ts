import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { prorate } from '../../src/billing/periods';
import {
  given,
  ok,
  untilActive,
  untilStatus,
  withoutChanges,
  type TestOrganization,
  type TestProject,
  type TestUser,
} from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

const DAY_MS = 24 * 60 * 60 * 1000;

const PLANS = '{ plans { code name priceCents currency maxProjects } }';
const BILLING = `query ($slug: String!) {
  organization(slug: $slug) {
    billing {
      subscription { plan { code } status currentPeriodStart currentPeriodEnd cancelAtPeriodEnd }
      paymentMethods { totalCount nodes { id brand last4 expMonth expYear isDefault } }
      upcomingInvoice { id number status currency subtotalCents taxCents totalCents lines { totalCount nodes { description amountCents periodStart periodEnd } } }
      details { email taxId address { line1 line2 city postalCode region country } }
    }
  }
}`;
const CHANGE_PLAN = 'mutation ($input: ChangePlanInput!) { changePlan(input: $input) { plan { code } status } }';
const CANCEL = 'mutation ($slug: String!) { cancelSubscription(organizationSlug: $slug) { cancelAtPeriodEnd } }';
const RESUME = 'mutation ($slug: String!) { resumeSubscription(organizationSlug: $slug) { cancelAtPeriodEnd } }';
const ADD_CARD =
  'mutation ($input: AddPaymentMethodInput!) { addPaymentMethod(input: $input) { id brand last4 isDefault } }';
const SET_DEFAULT =
  'mutation ($slug: String!, $id: ID!) { setDefaultPaymentMethod(organizationSlug: $slug, id: $id) { id isDefault } }';
const REMOVE_CARD = 'mutation ($slug: String!, $id: ID!) { removePaymentMethod(organizationSlug: $slug, id: $id) }';
const MARK_PAID =
  'mutation ($slug: String!, $id: ID!) { markInvoicePaid(organizationSlug: $slug, invoiceId: $id) { status paidAt } }';
const VOID = 'mutation ($slug: String!, $id: ID!) { voidInvoice(organizationSlug: $slug, invoiceId: $id) { status } }';
const CREATE_PROJECT = 'mutation ($input: CreateProjectInput!) { createProject(input: $input) { id ref } }';
const PAUSE = 'mutation ($ref: String!) { pauseProject(ref: $ref) { status } }';
const RESTORE = 'mutation ($ref: String!) { restoreProject(ref: $ref) { status } }';
const UPDATE_DETAILS = `mutation ($input: UpdateBillingDetailsInput!) {
  updateBillingDetails(input: $input) { email taxId address { line1 line2 city postalCode region country } }
}`;
const INVOICES = `query ($slug: String!, $first: Int, $after: String) {
  organization(slug: $slug) {
    billing { invoices(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { number status } } }
  }
}`;

interface Line {
  description: string;
  amountCents: number;
  periodStart: string;
  periodEnd: string;
}

interface Invoice {
  id: string;
  number: string;
  status: string;
  currency: string;
  subtotalCents: number;
  taxCents: number;
  totalCents: number;
  lines: { totalCount: number; nodes: Line[] };
}

interface BillingData {
  organization: {
    billing: {
      subscription: {
        plan: { code: string };
        status: string;
        currentPeriodStart: string;
        currentPeriodEnd: string;
        cancelAtPeriodEnd: boolean;
      };
      paymentMethods: {
        totalCount: number;
        nodes: { id: string; brand: string; last4: string; expMonth: number; expYear: number; isDefault: boolean }[];
      };
      upcomingInvoice: Invoice | null;
      details: { email: string | null; taxId: string | null; address: Record<string, string | null> | null };
    };
  };
}

type ResponseError = NonNullable<GraphQLResponse['errors']>[number];

/** Asserts that the response is one typed error with `code`, and returns it. */
function rejected(response: GraphQLResponse<unknown>, code: string): ResponseError {
  assert.equal(response.errors?.length, 1, JSON.stringify(response.errors));
  const [error] = response.errors;
  assert.equal(error.extensions.code, code, JSON.stringify(error));
  assert.doesNotMatch(error.message, /select|insert|update|constraint|at .*\.js/i);
  return error;
}

function fieldsOf(error: ResponseError): string[] {
  return ((error.extensions.fields as { field: string }[] | undefined) ?? []).map((problem) => problem.field);
}

/** The same arithmetic as the rule says, in floating point: only to check the integer version against. */
function expectedProration(deltaCents: number, remainingMs: number, lengthMs: number): number {
  const exact = (deltaCents * remainingMs) / lengthMs;
  return Math.sign(exact) * Math.round(Math.abs(exact));
}

describe('the proration rounding rule', () => {
  it('is the price difference times the unused fraction, to the nearest cent, halves away from zero', () => {
    assert.equal(prorate(2500, 20, 30), 1667, '1666.67 rounds up');
    assert.equal(prorate(2500, 10, 30), 833, '833.33 rounds down');
    assert.equal(prorate(-2500, 20, 30), -1667, 'a credit rounds the same way');
    assert.equal(prorate(1, 1, 2), 1, 'half a cent charged is a cent');
    assert.equal(prorate(-1, 1, 2), -1, 'half a cent credited is a cent');
    assert.equal(prorate(3, 1, 2), 2, '1.5 is 2');
    assert.equal(prorate(59900, 0, 30), 0, 'nothing left of the period, nothing to prorate');
    assert.equal(prorate(59900, 30, 30), 59900, 'the whole period is the whole difference');
    assert.equal(prorate(59900, -5, 30), 0, 'a change after the period ended prorates nothing');
    assert.equal(prorate(59900, 45, 30), 59900, 'never more than the whole difference');
  });

  it('is exact where floating point is not', () => {
    // 2^53 is where doubles stop counting cents one by one; the integer arithmetic does not care.
    const length = 31 * DAY_MS;
    assert.equal(prorate(2_000_000_000, length - 1, length), 1_999_999_999);
    assert.equal(prorate(249900, 1, 3), 83300);
  });
});

describe('billing', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  before(async () => {
    app = await startTestApp();
    make = given(app);
  });
  after(() => app.close());

  async function billing(organization: TestOrganization, user: TestUser) {
    return ok(await app.gql<BillingData>(BILLING, { slug: organization.slug }, user.token)).organization.billing;
  }

  async function ownOrganization(): Promise<{ owner: TestUser; organization: TestOrganization }> {
    const owner = await make.user();
    return { owner, organization: await make.organization({ owner }) };
  }

  /** Time travel: the current period, and its draft if it has one, become [now - elapsed, now + remaining). */
  async function placePeriod(organization: TestOrganization, elapsedMs: number, remainingMs: number): Promise<void> {
    const now = Date.now();
    const [start, end] = [new Date(now - elapsedMs), new Date(now + remainingMs)];
    await app.sql(
      `UPDATE invoices i SET period_start = $2, period_end = $3 FROM subscriptions s
       WHERE s.organization_id = $1 AND s.status <> 'canceled' AND i.subscription_id = s.id
         AND i.period_start = s.current_period_start`,
      [organization.id, start, end],
    );
    await app.sql(
      `UPDATE subscriptions SET current_period_start = $2, current_period_end = $3
       WHERE organization_id = $1 AND status <> 'canceled'`,
      [organization.id, start, end],
    );
  }

  async function activeProject(organization: TestOrganization, owner: TestUser): Promise<TestProject> {
    const project = await make.project({ organization, by: owner });
    await untilActive(app, project);
    return project;
  }

  function createProject(organization: TestOrganization, owner: TestUser) {
    return app.gql(
      CREATE_PROJECT,
      { input: { organizationSlug: organization.slug, name: 'One more', region: 'eu-west-1' } },
      owner.token,
    );
  }

  it('the plan catalog is public: free, pro, team and enterprise, with prices in cents and project limits', async () => {
    const { plans } = ok(await app.gql<{ plans: unknown[] }>(PLANS));
    assert.deepEqual(plans, [
      { code: 'free', name: 'Free', priceCents: 0, currency: 'USD', maxProjects: 2 },
      { code: 'pro', name: 'Pro', priceCents: 2500, currency: 'USD', maxProjects: 10 },
      { code: 'team', name: 'Team', priceCents: 59900, currency: 'USD', maxProjects: 50 },
      { code: 'enterprise', name: 'Enterprise', priceCents: 249900, currency: 'USD', maxProjects: null },
    ]);
  });

  it('a new organization starts on the free plan, until the end of the calendar month (UTC), with nothing due', async () => {
    const before = new Date();
    const { owner, organization } = await ownOrganization();
    const { subscription, upcomingInvoice, paymentMethods } = await billing(organization, owner);
    assert.equal(subscription.plan.code, 'free');
    assert.equal(subscription.status, 'ACTIVE');
    assert.equal(subscription.cancelAtPeriodEnd, false);
    const start = new Date(subscription.currentPeriodStart);
    assert.ok(start >= new Date(before.getTime() - 1000) && start <= new Date());
    const end = new Date(subscription.currentPeriodEnd);
    assert.equal(
      end.toISOString(),
      new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1)).toISOString(),
    );
    assert.equal(upcomingInvoice, null);
    assert.deepEqual(paymentMethods, { totalCount: 0, nodes: [] });
  });

  it('a paid plan needs a default payment method', async () => {
    const { owner, organization } = await ownOrganization();
    const response = await withoutChanges(app, () =>
      app.gql(CHANGE_PLAN, { input: { organizationSlug: organization.slug, planCode: 'pro' } }, owner.token),
    );
    const error = rejected(response, 'BAD_USER_INPUT');
    assert.match(error.message, /payment method/);
    assert.deepEqual(fieldsOf(error), ['planCode']);
  });

  it('an unknown plan code is bad input', async () => {
    const { owner, organization } = await ownOrganization();
    const response = await withoutChanges(app, () =>
      app.gql(CHANGE_PLAN, { input: { organizationSlug: organization.slug, planCode: 'platinum' } }, owner.token),
    );
    assert.deepEqual(fieldsOf(rejected(response, 'BAD_USER_INPUT')), ['planCode']);
  });

  it('upgrading takes effect at once and charges the price difference for the rest of the period, to the cent', async () => {
    const { owner, organization } = await ownOrganization();
    await make.paymentMethod({ organization, by: owner });
    // 10 days of a 30-day period gone, 20 left: two thirds of each difference.
    await placePeriod(organization, 10 * DAY_MS, 20 * DAY_MS);

    const upgraded = ok(
      await app.gql<{ changePlan: { plan: { code: string }; status: string } }>(
        CHANGE_PLAN,
        { input: { organizationSlug: organization.slug, planCode: 'pro' } },
        owner.token,
      ),
    );
    assert.deepEqual(upgraded.changePlan, { plan: { code: 'pro' }, status: 'ACTIVE' });
    let { upcomingInvoice, subscription } = await billing(organization, owner);
    assert.equal(subscription.plan.code, 'pro');
    assert.ok(upcomingInvoice);
    // 2500 × 20/30 = 1666.67
    assert.deepEqual(
      upcomingInvoice.lines.nodes.map((line) => line.amountCents),
      [1667],
    );
    assert.equal(upcomingInvoice.lines.nodes[0].description, 'Change from Free to Pro, for the rest of the period');
    assert.equal(upcomingInvoice.lines.nodes[0].periodEnd, subscription.currentPeriodEnd);
    assert.deepEqual(
      { status: upcomingInvoice.status, subtotal: upcomingInvoice.subtotalCents, tax: upcomingInvoice.taxCents },
      { status: 'DRAFT', subtotal: 1667, tax: 0 },
    );
    assert.equal(upcomingInvoice.totalCents, 1667);
    assert.equal(upcomingInvoice.currency, 'USD');

    ok(await app.gql(CHANGE_PLAN, { input: { organizationSlug: organization.slug, planCode: 'team' } }, owner.token));
    ({ upcomingInvoice, subscription } = await billing(organization, owner));
    assert.ok(upcomingInvoice);
    // (59900 - 2500) × 20/30 = 38266.67
    assert.deepEqual(
      upcomingInvoice.lines.nodes.map((line) => line.amountCents),
      [1667, 38267],
    );
    assert.equal(upcomingInvoice.totalCents, 1667 + 38267);

    // Each line is the rule applied to the instant of its change, whatever the request took.
    const start = Date.parse(subscription.currentPeriodStart);
    const end = Date.parse(subscription.currentPeriodEnd);
    for (const [line, delta] of [
      [upcomingInvoice.lines.nodes[0], 2500],
      [upcomingInvoice.lines.nodes[1], 57400],
    ] as const) {
      const changedAt = Date.parse(line.periodStart);
      assert.ok(Math.abs(changedAt - (start + 10 * DAY_MS)) < 60_000, 'the line starts when the plan changed');
      assert.equal(line.amountCents, expectedProration(delta, end - changedAt, end - start));
    }
  });

  it('downgrading credits the price difference for the rest of the period', async () => {
    const { owner, organization } = await ownOrganization();
    await make.paymentMethod({ organization, by: owner });
    await make.changePlan({ organization, by: owner, plan: 'team' });
    // A period that starts on team: its draft opens with the plan's price.
    await make.closePeriod({ organization });
    await placePeriod(organization, 10 * DAY_MS, 20 * DAY_MS);

    ok(await app.gql(CHANGE_PLAN, { input: { organizationSlug: organization.slug, planCode: 'pro' } }, owner.token));
    const { upcomingInvoice, subscription } = await billing(organization, owner);
    assert.equal(subscription.plan.code, 'pro');
    assert.ok(upcomingInvoice);
    assert.equal(upcomingInvoice.number, '000002');
    // The period's plan (team, 59900), then (2500 - 59900) × 20/30 = -38266.67 back.
    assert.deepEqual(
      upcomingInvoice.lines.nodes.map((line) => [line.description, line.amountCents]),
      [
        ['Team plan', 59900],
        ['Change from Team to Pro, for the rest of the period', -38267],
      ],
    );
    assert.equal(upcomingInvoice.totalCents, 59900 - 38267);
  });

  it('concurrent upgrades to one plan charge the difference once', async () => {
    const { owner, organization } = await ownOrganization();
    await make.paymentMethod({ organization, by: owner });
    const responses = await Promise.all(
      Array.from({ length: 4 }, () =>
        app.gql(CHANGE_PLAN, { input: { organizationSlug: organization.slug, planCode: 'pro' } }, owner.token),
      ),
    );
    for (const response of responses) ok(response);
    const { upcomingInvoice } = await billing(organization, owner);
    assert.equal(upcomingInvoice?.lines.totalCount, 1, 'the later ones found the plan already changed');
    const invoices = await app.sql('SELECT id FROM invoices WHERE organization_id = $1', [organization.id]);
    assert.equal(invoices.length, 1);
  });

  it('changing to the current plan changes nothing', async () => {
    const { owner, organization } = await ownOrganization();
    const response = await withoutChanges(app, () =>
      app.gql(CHANGE_PLAN, { input: { organizationSlug: organization.slug, planCode: 'free' } }, owner.token),
    );
    assert.equal(
      ok(response as GraphQLResponse<{ changePlan: { plan: { code: string } } }>).changePlan.plan.code,
      'free',
    );
  });

  it('downgrading is refused with PLAN_LIMIT_REACHED while more projects are active than the plan allows', async () => {
    const { owner, organization } = await ownOrganization();
    await make.paymentMethod({ organization, by: owner });
    await make.changePlan({ organization, by: owner, plan: 'pro' });
    const projects = [];
    for (let i = 0; i < 3; i += 1) projects.push(await activeProject(organization, owner));

    const refused = rejected(
      await withoutChanges(app, () =>
        app.gql(CHANGE_PLAN, { input: { organizationSlug: organization.slug, planCode: 'free' } }, owner.token),
      ),
      'PLAN_LIMIT_REACHED',
    );
    assert.match(refused.message, /Free plan allows 2 active projects/);
    assert.equal(refused.extensions.maxProjects, 2);
    assert.equal(refused.extensions.activeProjects, 3);

    // A paused project does not count (once the provisioner has paused it).
    ok(await app.gql(PAUSE, { ref: projects[0].ref }, owner.token));
    await untilStatus(app, projects[0], 'PAUSED');
    ok(await app.gql(CHANGE_PLAN, { input: { organizationSlug: organization.slug, planCode: 'free' } }, owner.token));
    assert.equal((await billing(organization, owner)).subscription.plan.code, 'free');
  });

  it('createProject and restoreProject are refused with PLAN_LIMIT_REACHED at the limit of active projects', async () => {
    const { owner, organization } = await ownOrganization();
    const first = await activeProject(organization, owner);
    await activeProject(organization, owner);

    const refused = rejected(await withoutChanges(app, () => createProject(organization, owner)), 'PLAN_LIMIT_REACHED');
    assert.equal(refused.extensions.plan, 'free');
    assert.equal(refused.extensions.maxProjects, 2);

    // Pausing one makes room; restoring it then would go beyond the limit again.
    ok(await app.gql(PAUSE, { ref: first.ref }, owner.token));
    await untilStatus(app, first, 'PAUSED');
    const third = ok(await createProject(organization, owner)) as { createProject: TestProject };
    await untilActive(app, third.createProject);
    rejected(await withoutChanges(app, () => app.gql(RESTORE, { ref: first.ref }, owner.token)), 'PLAN_LIMIT_REACHED');

    // A larger plan lifts the limit.
    await make.paymentMethod({ organization, by: owner });
    await make.changePlan({ organization, by: owner, plan: 'pro' });
    assert.deepEqual(ok(await app.gql(RESTORE, { ref: first.ref }, owner.token)), {
      restoreProject: { status: 'RESTORING' },
    });
    await untilActive(app, first);
  });

  it('of concurrent project creations, only as many as the plan allows succeed', async () => {
    const { owner, organization } = await ownOrganization();
    const responses = await Promise.all(Array.from({ length: 6 }, () => createProject(organization, owner)));
    const winners = responses.filter((response) => !response.errors);
    assert.equal(winners.length, 2);
    for (const loser of responses.filter((response) => response.errors)) rejected(loser, 'PLAN_LIMIT_REACHED');
    const rows = await app.sql('SELECT id FROM projects WHERE organization_id = $1', [organization.id]);
    assert.equal(rows.length, 2);
    for (const winner of winners) {
      await untilActive(app, (winner.data as { createProject: TestProject }).createProject);
    }
  });

  it('a card number is refused as a token, and nothing of it is stored or repeated', async () => {
    const { owner, organization } = await ownOrganization();
    const cardNumbers = [
      '4242424242424242',
      '4242 4242 4242 4242',
      '4242-4242-4242-4242',
      ' 5555 5555 5555 4444 ',
      '378282246310005',
      '4222222222222',
      '6011000990139424123',
      'tok_4242424242424242',
    ];
    for (const token of cardNumbers) {
      const response = await withoutChanges(app, () =>
        app.gql(ADD_CARD, { input: { organizationSlug: organization.slug, token, makeDefault: true } }, owner.token),
      );
      const error = rejected(response, 'BAD_USER_INPUT');
      assert.deepEqual(fieldsOf(error), ['token']);
      assert.match(error.message, /never a card number/);
      const digits = token.replace(/\D/g, '');
      assert.ok(!JSON.stringify(response).replace(/\D/g, ' ').includes(digits.slice(-8)), 'the number is not echoed');
    }
    const stored = await app.sql('SELECT * FROM payment_methods');
    for (const token of cardNumbers) {
      assert.ok(!JSON.stringify(stored).includes(token.replace(/\D/g, '').slice(-8)));
    }
  });

  it('a token the provider does not know is bad input', async () => {
    const { owner, organization } = await ownOrganization();
    for (const token of ['tok_unknown', 'pm_card_visa', 'TOK_VISA', '', 'constructor', '__proto__']) {
      const response = await withoutChanges(app, () =>
        app.gql(ADD_CARD, { input: { organizationSlug: organization.slug, token } }, owner.token),
      );
      assert.deepEqual(fieldsOf(rejected(response, 'BAD_USER_INPUT')), ['token'], token);
    }
  });

  it('payment methods carry the brand and last four digits of their test token; one of them is the default', async () => {
    const { owner, organization } = await ownOrganization();
    const visa = await make.paymentMethod({ organization, by: owner, token: 'tok_visa' });
    const mastercard = await make.paymentMethod({ organization, by: owner, token: 'tok_mastercard' });
    const amex = await make.paymentMethod({ organization, by: owner, token: 'tok_amex', makeDefault: true });
    assert.deepEqual(
      [visa, mastercard, amex].map(({ brand, last4, isDefault }) => ({ brand, last4, isDefault })),
      [
        { brand: 'visa', last4: '4242', isDefault: true },
        { brand: 'mastercard', last4: '4444', isDefault: false },
        { brand: 'amex', last4: '8431', isDefault: true },
      ],
    );
    const listed = (await billing(organization, owner)).paymentMethods.nodes;
    assert.deepEqual(
      listed.map((method) => [method.id, method.isDefault]),
      [
        [amex.id, true],
        [visa.id, false],
        [mastercard.id, false],
      ],
    );
    for (const method of listed) {
      assert.ok(method.expMonth >= 1 && method.expMonth <= 12);
      assert.ok(method.expYear > new Date().getUTCFullYear());
    }

    const switched = ok(
      await app.gql<{ setDefaultPaymentMethod: { id: string; isDefault: boolean } }>(
        SET_DEFAULT,
        { slug: organization.slug, id: mastercard.id },
        owner.token,
      ),
    );
    assert.deepEqual(switched.setDefaultPaymentMethod, { id: mastercard.id, isDefault: true });
    const defaults = await app.sql<{ id: string }>(
      'SELECT id FROM payment_methods WHERE organization_id = $1 AND is_default',
      [organization.id],
    );
    assert.deepEqual(defaults, [{ id: mastercard.id }]);
    const [customer] = await app.sql<{ payment_customer_ref: string }>(
      'SELECT payment_customer_ref FROM organizations WHERE id = $1',
      [organization.id],
    );
    assert.match(customer.payment_customer_ref, /^cus_/, "the provider's customer is kept with the organization");
  });

  it("another organization's payment method or invoice is not found", async () => {
    const { owner, organization } = await ownOrganization();
    const other = await ownOrganization();
    const card = await make.paymentMethod({ organization: other.organization, by: other.owner });
    await make.changePlan({ organization: other.organization, by: other.owner, plan: 'pro' });
    const draft = (await billing(other.organization, other.owner)).upcomingInvoice;
    assert.ok(draft);
    const operator = await make.platformUser();
    const attempts = [
      () => app.gql(SET_DEFAULT, { slug: organization.slug, id: card.id }, owner.token),
      () => app.gql(REMOVE_CARD, { slug: organization.slug, id: card.id }, owner.token),
      // The operator names an invoice of another organization than the one it belongs to.
      () => app.gql(MARK_PAID, { slug: organization.slug, id: draft.id }, operator.token),
      () => app.gql(VOID, { slug: organization.slug, id: draft.id }, operator.token),
    ];
    for (const attempt of attempts) rejected(await withoutChanges(app, attempt), 'NOT_FOUND');
    for (const id of ['not-a-uuid', "' OR '1'='1"]) {
      assert.deepEqual(
        fieldsOf(rejected(await app.gql(SET_DEFAULT, { slug: organization.slug, id }, owner.token), 'BAD_USER_INPUT')),
        ['id'],
      );
      assert.deepEqual(
        fieldsOf(rejected(await app.gql(MARK_PAID, { slug: organization.slug, id }, operator.token), 'BAD_USER_INPUT')),
        ['invoiceId'],
      );
    }
  });

  it('the default payment method cannot be removed while a paid plan is active', async () => {
    const { owner, organization } = await ownOrganization();
    const visa = await make.paymentMethod({ organization, by: owner, token: 'tok_visa' });
    const mastercard = await make.paymentMethod({ organization, by: owner, token: 'tok_mastercard' });
    await make.changePlan({ organization, by: owner, plan: 'pro' });

    const refused = rejected(
      await withoutChanges(app, () => app.gql(REMOVE_CARD, { slug: organization.slug, id: visa.id }, owner.token)),
      'CONFLICT',
    );
    assert.match(refused.message, /default payment method pays for the Pro plan/);
    // Another card can go; so can the old default once another one is the default.
    assert.deepEqual(ok(await app.gql(REMOVE_CARD, { slug: organization.slug, id: mastercard.id }, owner.token)), {
      removePaymentMethod: true,
    });
    const amex = await make.paymentMethod({ organization, by: owner, token: 'tok_amex', makeDefault: true });
    ok(await app.gql(REMOVE_CARD, { slug: organization.slug, id: visa.id }, owner.token));
    // Back on free, the last card can go too.
    ok(await app.gql(CHANGE_PLAN, { input: { organizationSlug: organization.slug, planCode: 'free' } }, owner.token));
    ok(await app.gql(REMOVE_CARD, { slug: organization.slug, id: amex.id }, owner.token));
    assert.deepEqual((await billing(organization, owner)).paymentMethods, { totalCount: 0, nodes: [] });
  });

  it('canceling schedules the end of a paid plan, resuming withdraws it; the free plan cannot be canceled', async () => {
    const { owner, organization } = await ownOrganization();
    rejected(await withoutChanges(app, () => app.gql(CANCEL, { slug: organization.slug }, owner.token)), 'CONFLICT');
    await make.paymentMethod({ organization, by: owner });
    await make.changePlan({ organization, by: owner, plan: 'pro' });
    for (let i = 0; i < 2; i += 1) {
      assert.deepEqual(ok(await app.gql(CANCEL, { slug: organization.slug }, owner.token)), {
        cancelSubscription: { cancelAtPeriodEnd: true },
      });
    }
    const canceled = await billing(organization, owner);
    assert.deepEqual(
      { plan: canceled.subscription.plan.code, cancelAtPeriodEnd: canceled.subscription.cancelAtPeriodEnd },
      { plan: 'pro', cancelAtPeriodEnd: true },
      'the plan runs to the end of the period',
    );
    assert.deepEqual(ok(await app.gql(RESUME, { slug: organization.slug }, owner.token)), {
      resumeSubscription: { cancelAtPeriodEnd: false },
    });
  });

  it('only an open invoice can be marked paid or voided', async () => {
    const { owner, organization } = await ownOrganization();
    const operator = await make.platformUser();
    await make.paymentMethod({ organization, by: owner });
    await make.changePlan({ organization, by: owner, plan: 'pro' });
    await make.closePeriod({ organization });
    const [issued] = await app.sql<{ id: string; status: string }>(
      "SELECT id, status FROM invoices WHERE organization_id = $1 AND status <> 'draft'",
      [organization.id],
    );
    assert.equal(issued.status, 'paid');
    const draft = (await billing(organization, owner)).upcomingInvoice;
    assert.ok(draft);
    for (const id of [issued.id, draft.id]) {
      for (const document of [MARK_PAID, VOID]) {
        const error = rejected(
          await withoutChanges(app, () => app.gql(document, { slug: organization.slug, id }, operator.token)),
          'CONFLICT',
        );
        assert.equal(error.extensions.field, 'status');
      }
    }
  });

  it('lists issued invoices newest first, a page at a time', async () => {
    const { owner, organization } = await ownOrganization();
    await make.paymentMethod({ organization, by: owner });
    await make.changePlan({ organization, by: owner, plan: 'pro' });
    for (let i = 0; i < 3; i += 1) await make.closePeriod({ organization });
    type Page = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; nodes: unknown[] };
    const page = async (after: string | null) =>
      ok(
        await app.gql<{ organization: { billing: { invoices: Page } } }>(
          INVOICES,
          { slug: organization.slug, first: 2, after },
          owner.token,
        ),
      ).organization.billing.invoices;
    const first = await page(null);
    assert.equal(first.totalCount, 3);
    assert.deepEqual(first.nodes, [
      { number: '000003', status: 'PAID' },
      { number: '000002', status: 'PAID' },
    ]);
    assert.equal(first.pageInfo.hasNextPage, true);
    const second = await page(first.pageInfo.endCursor);
    assert.deepEqual(second.nodes, [{ number: '000001', status: 'PAID' }]);
    assert.equal(second.pageInfo.hasNextPage, false);
    assert.equal((await billing(organization, owner)).upcomingInvoice?.number, '000004');
    const bad = await app.gql(INVOICES, { slug: organization.slug, after: 'garbage' }, owner.token);
    assert.deepEqual(fieldsOf(rejected(bad, 'BAD_USER_INPUT')), ['after']);
  });

  it('owners keep the billing e-mail, tax id and address; absent fields stay, null clears', async () => {
    const { owner, organization } = await ownOrganization();
    const address = {
      line1: '1 Analytical Way',
      line2: null,
      city: 'London',
      postalCode: 'N1 9GU',
      region: null,
      country: 'GB',
    };
    const set = ok(
      await app.gql<{ updateBillingDetails: unknown }>(
        UPDATE_DETAILS,
        {
          input: {
            organizationSlug: organization.slug,
            email: 'accounts@example.com',
            taxId: ' GB123456789 ',
            address,
          },
        },
        owner.token,
      ),
    );
    assert.deepEqual(set.updateBillingDetails, { email: 'accounts@example.com', taxId: 'GB123456789', address });
    ok(await app.gql(UPDATE_DETAILS, { input: { organizationSlug: organization.slug, taxId: null } }, owner.token));
    assert.deepEqual((await billing(organization, owner)).details, {
      email: 'accounts@example.com',
      taxId: null,
      address,
    });
    for (const [input, field] of [
      [{ email: 'not an address' }, 'email'],
      [{ address: { ...address, country: 'Britain' } }, 'address.country'],
      [{ address: { ...address, line1: '   ' } }, 'address.line1'],
      [{ taxId: '<script>' }, 'taxId'],
    ] as const) {
      const response = await withoutChanges(app, () =>
        app.gql(UPDATE_DETAILS, { input: { organizationSlug: organization.slug, ...input } }, owner.token),
      );
      assert.deepEqual(fieldsOf(rejected(response, 'BAD_USER_INPUT')), [field]);
    }
  });
});
