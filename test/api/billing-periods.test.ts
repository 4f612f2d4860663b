import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { given, holdRowLock, lockWaiters, ok, type TestOrganization, type TestUser } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

const run = promisify(execFile);
const CLOSE_PERIODS = path.join(__dirname, '..', '..', 'scripts', 'close-periods.js');
const DAY_MS = 24 * 60 * 60 * 1000;

const BILLING = `query ($slug: String!) {
  organization(slug: $slug) {
    billing {
      subscription { plan { code } status currentPeriodStart currentPeriodEnd cancelAtPeriodEnd }
      invoices { totalCount nodes { id number status totalCents periodStart periodEnd lines { nodes { description amountCents } } } }
      upcomingInvoice { number status totalCents periodStart periodEnd lines { nodes { description amountCents } } }
    }
  }
}`;

interface InvoiceData {
  id: string;
  number: string;
  status: string;
  totalCents: number;
  periodStart: string;
  periodEnd: string;
  lines: { nodes: { description: string; amountCents: number }[] };
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
      invoices: { totalCount: number; nodes: InvoiceData[] };
      upcomingInvoice: Omit<InvoiceData, 'id'> | null;
    };
  };
}

interface InvoiceRow {
  number: number;
  status: string;
  total_cents: number;
  issued_at: Date | null;
  paid_at: Date | null;
  period_start: Date;
}

/** The first instant of the month after `date`'s, in UTC: where billing periods end. */
function monthAfter(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1));
}

describe('npm run billing:close-periods', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  before(async () => {
    app = await startTestApp();
    make = given(app);
  });
  after(() => app.close());

  async function closePeriods(now: Date, ...args: string[]): Promise<{ stdout: string; closed: number }> {
    const { stdout } = await run(process.execPath, [CLOSE_PERIODS, '--now', now.toISOString(), ...args], {
      env: { ...process.env, DATABASE_URL: app.databaseUrl, NODE_ENV: 'test' },
    });
    const match = /Closed (\d+) period\(s\)/.exec(stdout);
    assert.ok(match, stdout);
    return { stdout, closed: Number(match[1]) };
  }

  async function billing(organization: TestOrganization, owner: TestUser) {
    return ok(await app.gql<BillingData>(BILLING, { slug: organization.slug }, owner.token)).organization.billing;
  }

  async function invoicesOf(organization: TestOrganization): Promise<InvoiceRow[]> {
    return app.sql<InvoiceRow>(
      'SELECT number, status, total_cents, issued_at, paid_at, period_start FROM invoices WHERE organization_id = $1 ORDER BY number',
      [organization.id],
    );
  }

  async function periodEnd(organization: TestOrganization): Promise<Date> {
    const [row] = await app.sql<{ current_period_end: Date }>(
      "SELECT current_period_end FROM subscriptions WHERE organization_id = $1 AND status <> 'canceled'",
      [organization.id],
    );
    return row.current_period_end;
  }

  /** An organization on `plan`, paying with `token`; its first period is a whole 30 days, 10 of them gone. */
  async function subscribed(plan: string, token = 'tok_visa') {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const now = Date.now();
    await app.sql(
      `UPDATE subscriptions SET current_period_start = $2, current_period_end = $3 WHERE organization_id = $1`,
      [organization.id, new Date(now - 10 * DAY_MS), new Date(now + 20 * DAY_MS)],
    );
    await make.paymentMethod({ organization, by: owner, token });
    await make.changePlan({ organization, by: owner, plan });
    return { owner, organization };
  }

  it('issues the ended period’s invoice, charges it, and starts the next period with its draft', async () => {
    const { owner, organization } = await subscribed('pro');
    const end = await periodEnd(organization);
    const { stdout } = await closePeriods(new Date(end.getTime() + 1000), '--organization', organization.slug);
    assert.match(stdout, /invoice 000001 paid, 1667 USD/);

    const { subscription, invoices, upcomingInvoice } = await billing(organization, owner);
    // 20 of the first period's 30 days on pro: 2500 × 2/3.
    assert.equal(invoices.totalCount, 1);
    const [invoice] = invoices.nodes;
    assert.deepEqual(
      { number: invoice.number, status: invoice.status, total: invoice.totalCents, end: invoice.periodEnd },
      { number: '000001', status: 'PAID', total: 1667, end: end.toISOString() },
    );
    const [row] = await invoicesOf(organization);
    assert.equal(row.issued_at?.getTime(), end.getTime() + 1000, 'issued as of --now');
    assert.equal(row.paid_at?.getTime(), end.getTime() + 1000);

    assert.deepEqual(
      {
        plan: subscription.plan.code,
        status: subscription.status,
        start: subscription.currentPeriodStart,
        end: subscription.currentPeriodEnd,
      },
      { plan: 'pro', status: 'ACTIVE', start: end.toISOString(), end: monthAfter(end).toISOString() },
    );
    assert.deepEqual(upcomingInvoice, {
      number: '000002',
      status: 'DRAFT',
      totalCents: 2500,
      periodStart: end.toISOString(),
      periodEnd: monthAfter(end).toISOString(),
      lines: { nodes: [{ description: 'Pro plan', amountCents: 2500 }] },
    });
  });

  it('leaves the invoice open and the subscription past due when the charge is declined', async () => {
    const { owner, organization } = await subscribed('pro', 'tok_chargeDeclined');
    const end = await periodEnd(organization);
    const { stdout } = await closePeriods(end, '--organization', organization.slug);
    assert.match(stdout, /invoice 000001 open, 1667 USD minor units \(charge declined: Your card was declined\.\)/);

    const { subscription, invoices } = await billing(organization, owner);
    assert.equal(subscription.status, 'PAST_DUE');
    assert.equal(subscription.currentPeriodStart, end.toISOString(), 'the next period starts all the same');
    const [invoice] = invoices.nodes;
    assert.equal(invoice.status, 'OPEN');
    const [row] = await invoicesOf(organization);
    assert.equal(row.issued_at?.getTime(), end.getTime());
    assert.equal(row.paid_at, null);

    // Paid some other way, as the operator records: nothing is owed any more.
    const operator = await make.platformUser();
    const paid = ok(
      await app.gql<{ markInvoicePaid: { status: string } }>(
        'mutation ($slug: String!, $id: ID!) { markInvoicePaid(organizationSlug: $slug, invoiceId: $id) { status } }',
        { slug: organization.slug, id: invoice.id },
        operator.token,
      ),
    );
    assert.equal(paid.markInvoicePaid.status, 'PAID');
    assert.equal((await billing(organization, owner)).subscription.status, 'ACTIVE');
  });

  it('closes a period once however often it runs: a second run finds nothing to do', async () => {
    const { organization } = await subscribed('team');
    const now = await periodEnd(organization);
    assert.equal((await closePeriods(now, '--organization', organization.slug)).closed, 1);
    const first = await invoicesOf(organization);
    assert.equal((await closePeriods(now, '--organization', organization.slug)).closed, 0);
    assert.deepEqual(await invoicesOf(organization), first);
    assert.deepEqual(
      first.map((invoice) => [invoice.number, invoice.status]),
      [
        [1, 'paid'],
        [2, 'draft'],
      ],
    );
  });

  it('concurrent runs close every period once, months behind, with invoice numbers without gaps', async () => {
    const organizations = await Promise.all([subscribed('pro'), subscribed('team'), subscribed('pro')]);
    // Three months late: each organization has three ended periods.
    const ends = await Promise.all(organizations.map(({ organization }) => periodEnd(organization)));
    const latest = new Date(Math.max(...ends.map((end) => end.getTime())));
    const now = new Date(monthAfter(monthAfter(latest)).getTime() + 1000);
    // Hold every organization: both runs queue on the first one they try, then race through the rest.
    const locks = await Promise.all(
      organizations.map(({ organization }) => holdRowLock(app, 'organizations', organization.id)),
    );
    let runs: { stdout: string; closed: number }[];
    try {
      const racing = Promise.all([closePeriods(now), closePeriods(now)]);
      await lockWaiters(app, 2);
      await Promise.all(locks.map((lock) => lock.release()));
      runs = await racing;
    } finally {
      await Promise.all(locks.map((lock) => lock.release()));
    }

    for (const { organization } of organizations) {
      const invoices = await invoicesOf(organization);
      assert.deepEqual(
        invoices.map((invoice) => invoice.number),
        [1, 2, 3, 4],
        'one invoice per period, numbered without gaps',
      );
      assert.deepEqual(
        invoices.map((invoice) => invoice.status),
        ['paid', 'paid', 'paid', 'draft'],
      );
      assert.equal(new Set(invoices.map((invoice) => invoice.period_start.getTime())).size, 4);
      const [counter] = await app.sql<{ last_invoice_number: number }>(
        'SELECT last_invoice_number FROM organizations WHERE id = $1',
        [organization.id],
      );
      assert.equal(counter.last_invoice_number, 4);
      // Each period was closed (issued and charged) by one of the runs, not by both.
      const closings = runs
        .flatMap((result) => result.stdout.split('\n'))
        .filter((line) => line.startsWith(`organization ${organization.id}: closed`));
      assert.equal(closings.length, 3, closings.join('\n'));
      assert.equal(new Set(closings).size, 3, closings.join('\n'));
    }
    // Nothing was closed twice: a third run, as of the same time, has nothing left.
    assert.equal((await closePeriods(now)).closed, 0);
  });

  it('moves a canceled subscription to the free plan when its period closes; a resumed one renews', async () => {
    const canceled = await subscribed('pro');
    const resumed = await subscribed('pro');
    for (const { organization, owner } of [canceled, resumed]) {
      ok(
        await app.gql(
          'mutation ($slug: String!) { cancelSubscription(organizationSlug: $slug) { cancelAtPeriodEnd } }',
          { slug: organization.slug },
          owner.token,
        ),
      );
    }
    ok(
      await app.gql(
        'mutation ($slug: String!) { resumeSubscription(organizationSlug: $slug) { cancelAtPeriodEnd } }',
        { slug: resumed.organization.slug },
        resumed.owner.token,
      ),
    );
    const end = await periodEnd(canceled.organization);
    for (const { organization } of [canceled, resumed]) {
      await closePeriods(await periodEnd(organization), '--organization', organization.slug);
    }

    const afterCancel = await billing(canceled.organization, canceled.owner);
    assert.equal(afterCancel.subscription.plan.code, 'free');
    assert.equal(afterCancel.subscription.status, 'ACTIVE');
    assert.equal(afterCancel.invoices.nodes[0].status, 'PAID', 'the last paid period is charged');
    assert.equal(afterCancel.upcomingInvoice, null, 'nothing is due on free');
    const rows = await app.sql<{ status: string; canceled_at: Date | null; code: string }>(
      `SELECT s.status, s.canceled_at, p.code FROM subscriptions s JOIN plans p ON p.id = s.plan_id
       WHERE s.organization_id = $1 ORDER BY s.created_at`,
      [canceled.organization.id],
    );
    assert.deepEqual(
      rows.map((row) => [row.code, row.status]),
      [
        ['pro', 'canceled'],
        ['free', 'active'],
      ],
    );
    assert.equal(rows[0].canceled_at?.getTime(), end.getTime(), 'canceled when its period ended');
    assert.equal(afterCancel.subscription.currentPeriodStart, end.toISOString());

    const afterResume = await billing(resumed.organization, resumed.owner);
    assert.equal(afterResume.subscription.plan.code, 'pro');
    assert.equal(afterResume.upcomingInvoice?.totalCents, 2500);
  });

  it('bills nothing for a free period without changes', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const end = await periodEnd(organization);
    const { stdout } = await closePeriods(end, '--organization', organization.slug);
    assert.match(stdout, /nothing to bill/);
    assert.deepEqual(await invoicesOf(organization), []);
    const { subscription } = await billing(organization, owner);
    assert.deepEqual(
      [subscription.plan.code, subscription.currentPeriodStart, subscription.currentPeriodEnd],
      ['free', end.toISOString(), monthAfter(end).toISOString()],
    );
  });

  it('refuses a --now that is not an ISO time, changing nothing', async () => {
    for (const now of ['yesterday', '2030-13-01T00:00:00Z', '2030-01-01']) {
      await assert.rejects(
        run(process.execPath, [CLOSE_PERIODS, '--now', now], {
          env: { ...process.env, DATABASE_URL: app.databaseUrl, NODE_ENV: 'test' },
        }),
        (error: { code: number; stderr: string }) => {
          assert.equal(error.code, 1);
          assert.match(error.stderr, /--now must be an ISO time/);
          return true;
        },
      );
    }
  });
});
