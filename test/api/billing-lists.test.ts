import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_PAYMENT_METHODS } from '../../src/services/billing-payment-method.service';
import { given, ok, withoutChanges, type TestOrganization, type TestUser } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

const PAYMENT_METHODS = `query ($slug: String!, $first: Int, $after: String) {
  organization(slug: $slug) {
    billing {
      paymentMethods(first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { id brand isDefault }
      }
    }
  }
}`;
const UPCOMING_LINES = `query ($slug: String!, $first: Int, $after: String) {
  organization(slug: $slug) {
    billing {
      upcomingInvoice {
        lines(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id description } }
      }
    }
  }
}`;
const INVOICES = `query ($slug: String!, $first: Int) {
  organization(slug: $slug) { billing { invoices(first: $first) { pageInfo { endCursor } } } }
}`;
const ADD_CARD =
  'mutation ($input: AddPaymentMethodInput!) { addPaymentMethod(input: $input) { id brand last4 isDefault } }';
const REMOVE_CARD = 'mutation ($slug: String!, $id: ID!) { removePaymentMethod(organizationSlug: $slug, id: $id) }';

interface Page<T> {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: T[];
}

type ResponseError = NonNullable<GraphQLResponse['errors']>[number];

function rejected(response: GraphQLResponse<unknown>, code: string): ResponseError {
  assert.equal(response.errors?.length, 1, JSON.stringify(response.errors));
  const [error] = response.errors;
  assert.equal(error.extensions.code, code, JSON.stringify(error));
  return error;
}

function fieldsOf(error: ResponseError): string[] {
  return ((error.extensions.fields as { field: string }[] | undefined) ?? []).map((problem) => problem.field);
}

describe('billing lists are pages, and what an organization stores is bounded', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  before(async () => {
    app = await startTestApp();
    make = given(app);
  });
  after(() => app.close());

  async function ownOrganization(): Promise<{ owner: TestUser; organization: TestOrganization }> {
    const owner = await make.user();
    return { owner, organization: await make.organization({ owner }) };
  }

  async function paymentMethods(
    organization: TestOrganization,
    owner: TestUser,
    first: number | null,
    after: string | null = null,
  ) {
    const data = ok(
      await app.gql<{ organization: { billing: { paymentMethods: Page<{ id: string; isDefault: boolean }> } } }>(
        PAYMENT_METHODS,
        { slug: organization.slug, first, after },
        owner.token,
      ),
    );
    return data.organization.billing.paymentMethods;
  }

  function addCard(organization: TestOrganization, owner: TestUser, token = 'tok_visa') {
    return app.gql<{ addPaymentMethod: { id: string } }>(
      ADD_CARD,
      { input: { organizationSlug: organization.slug, token } },
      owner.token,
    );
  }

  async function storedCards(organization: TestOrganization): Promise<number> {
    const [row] = await app.sql<{ count: number }>(
      'SELECT count(*)::int AS count FROM payment_methods WHERE organization_id = $1',
      [organization.id],
    );
    return row.count;
  }

  it('payment methods come a page at a time, the default first and then the oldest first, across pages', async () => {
    const { owner, organization } = await ownOrganization();
    const visa = await make.paymentMethod({ organization, by: owner, token: 'tok_visa' });
    const mastercard = await make.paymentMethod({ organization, by: owner, token: 'tok_mastercard' });
    const amex = await make.paymentMethod({ organization, by: owner, token: 'tok_amex' });
    // The newest one is the default: the list order is not the order of creation.
    const mastercardDefault = await make.paymentMethod({
      organization,
      by: owner,
      token: 'tok_mastercard',
      makeDefault: true,
    });

    const first = await paymentMethods(organization, owner, 2);
    assert.equal(first.totalCount, 4);
    assert.deepEqual(
      first.nodes.map((method) => [method.id, method.isDefault]),
      [
        [mastercardDefault.id, true],
        [visa.id, false],
      ],
    );
    assert.equal(first.pageInfo.hasNextPage, true);
    assert.ok(first.pageInfo.endCursor);

    const second = await paymentMethods(organization, owner, 2, first.pageInfo.endCursor);
    assert.equal(second.totalCount, 4, 'the total is of the whole list, whatever the page');
    assert.deepEqual(
      second.nodes.map((method) => method.id),
      [mastercard.id, amex.id],
    );
    assert.equal(second.pageInfo.hasNextPage, false);

    const rest = await paymentMethods(organization, owner, 2, second.pageInfo.endCursor);
    assert.deepEqual({ nodes: rest.nodes, hasNextPage: rest.pageInfo.hasNextPage }, { nodes: [], hasNextPage: false });

    const all = await paymentMethods(organization, owner, null);
    assert.deepEqual(
      all.nodes.map((method) => method.id),
      [mastercardDefault.id, visa.id, mastercard.id, amex.id],
      'without first, one page of the default size holds them all',
    );
  });

  it('a payment-method cursor that this list did not hand out, or a negative first, is bad input naming it', async () => {
    const { owner, organization } = await ownOrganization();
    await make.paymentMethod({ organization, by: owner });
    await make.changePlan({ organization, by: owner, plan: 'pro' });
    await make.closePeriod({ organization });
    const invoices = ok(
      await app.gql<{ organization: { billing: { invoices: Page<never> } } }>(
        INVOICES,
        { slug: organization.slug, first: 1 },
        owner.token,
      ),
    );
    const invoiceCursor = invoices.organization.billing.invoices.pageInfo.endCursor;
    assert.ok(invoiceCursor);
    const lineCursor = Buffer.from(JSON.stringify([new Date().toISOString(), organization.id])).toString('base64url');
    for (const after of [invoiceCursor, lineCursor, 'garbage']) {
      const response = await app.gql(PAYMENT_METHODS, { slug: organization.slug, first: 1, after }, owner.token);
      assert.deepEqual(fieldsOf(rejected(response, 'BAD_USER_INPUT')), ['after'], after);
    }
    const negative = await app.gql(PAYMENT_METHODS, { slug: organization.slug, first: -1 }, owner.token);
    assert.deepEqual(fieldsOf(rejected(negative, 'BAD_USER_INPUT')), ['first']);
  });

  it("an invoice's lines come a page at a time, oldest first, with their total count", async () => {
    const { owner, organization } = await ownOrganization();
    await make.paymentMethod({ organization, by: owner });
    // From free, each change adds one line to the period's draft.
    for (const plan of ['pro', 'team', 'enterprise']) await make.changePlan({ organization, by: owner, plan });
    const page = async (first: number, after: string | null) =>
      ok(
        await app.gql<{ organization: { billing: { upcomingInvoice: { lines: Page<{ description: string }> } } } }>(
          UPCOMING_LINES,
          { slug: organization.slug, first, after },
          owner.token,
        ),
      ).organization.billing.upcomingInvoice.lines;

    const first = await page(2, null);
    assert.equal(first.totalCount, 3);
    assert.deepEqual(
      first.nodes.map((line) => line.description),
      ['Change from Free to Pro, for the rest of the period', 'Change from Pro to Team, for the rest of the period'],
    );
    assert.equal(first.pageInfo.hasNextPage, true);
    const second = await page(2, first.pageInfo.endCursor);
    assert.equal(second.totalCount, 3);
    assert.deepEqual(
      second.nodes.map((line) => line.description),
      ['Change from Team to Enterprise, for the rest of the period'],
    );
    assert.equal(second.pageInfo.hasNextPage, false);

    const bad = await app.gql(UPCOMING_LINES, { slug: organization.slug, first: 2, after: 'garbage' }, owner.token);
    assert.deepEqual(fieldsOf(rejected(bad, 'BAD_USER_INPUT')), ['after']);
  });

  it('the lines of a page of invoices take the same statements however many invoices the page holds', async () => {
    const { owner, organization } = await ownOrganization();
    await make.paymentMethod({ organization, by: owner });
    await make.changePlan({ organization, by: owner, plan: 'pro' });
    const query = `query ($slug: String!) { organization(slug: $slug) { billing {
      invoices(first: 10) { nodes { number lines { totalCount nodes { description amountCents } } } }
    } } }`;
    const statements = async (invoices: number) => {
      const response = await app.gql<{ organization: { billing: { invoices: Page<{ number: string }> } } }>(
        query,
        { slug: organization.slug },
        owner.token,
      );
      assert.equal(ok(response).organization.billing.invoices.nodes.length, invoices);
      return Number(response.headers.get('x-sql-statements'));
    };
    await make.closePeriod({ organization });
    const withOne = await statements(1);
    for (let i = 0; i < 3; i += 1) await make.closePeriod({ organization });
    assert.ok(withOne > 0, 'statements are counted');
    assert.equal(await statements(4), withOne);
  });

  it(`an organization keeps at most ${MAX_PAYMENT_METHODS} payment methods: one more is a CONFLICT on organizationSlug and changes nothing`, async () => {
    const { owner, organization } = await ownOrganization();
    for (let i = 0; i < MAX_PAYMENT_METHODS; i += 1) ok(await addCard(organization, owner));

    const refused = rejected(await withoutChanges(app, () => addCard(organization, owner, 'tok_amex')), 'CONFLICT');
    assert.equal(refused.extensions.field, 'organizationSlug');
    assert.match(refused.message, new RegExp(`at most ${MAX_PAYMENT_METHODS} payment methods`));
    assert.equal(await storedCards(organization), MAX_PAYMENT_METHODS);

    // Removing one makes room for one.
    const { nodes } = await paymentMethods(organization, owner, 1);
    ok(await app.gql(REMOVE_CARD, { slug: organization.slug, id: nodes[0].id }, owner.token));
    ok(await addCard(organization, owner, 'tok_amex'));
    rejected(await addCard(organization, owner, 'tok_amex'), 'CONFLICT');
    assert.equal(await storedCards(organization), MAX_PAYMENT_METHODS);
  });

  it('of concurrent additions near the cap, only as many as fit succeed; the others are a CONFLICT', async () => {
    const { owner, organization } = await ownOrganization();
    for (let i = 0; i < MAX_PAYMENT_METHODS - 2; i += 1) ok(await addCard(organization, owner));
    const responses = await Promise.all(Array.from({ length: 5 }, () => addCard(organization, owner)));
    const winners = responses.filter((response) => !response.errors);
    assert.equal(winners.length, 2);
    for (const loser of responses.filter((response) => response.errors)) {
      assert.equal(rejected(loser, 'CONFLICT').extensions.field, 'organizationSlug');
    }
    assert.equal(await storedCards(organization), MAX_PAYMENT_METHODS);
    assert.equal((await paymentMethods(organization, owner, null)).totalCount, MAX_PAYMENT_METHODS);
  });
});

describe('the execution cost counts the pages of billing connections', () => {
  const LIMIT = 200;
  let app: TestApp;
  let owner: TestUser;
  let organization: TestOrganization;
  before(async () => {
    app = await startTestApp({ GRAPHQL_MAX_EXECUTION_COST: String(LIMIT) });
    const make = given(app);
    owner = await make.user();
    organization = await make.organization({ owner });
  });
  after(() => app.close());

  function tooExpensive(response: GraphQLResponse<unknown>, fields: number): void {
    const error = rejected(response, 'GRAPHQL_VALIDATION_FAILED');
    assert.equal(response.status, 400);
    assert.match(error.message, new RegExp(`can resolve ${fields} fields, more than the limit of ${LIMIT}`));
  }

  it('payment methods count first times the fields of each one', async () => {
    const query = `query ($slug: String!, $first: Int) { organization(slug: $slug) { billing {
      paymentMethods(first: $first) { nodes { id brand last4 expMonth expYear isDefault } }
    } } }`;
    // organization, billing, paymentMethods, nodes, then 6 fields per payment method.
    tooExpensive(await app.gql(query, { slug: organization.slug, first: 100 }, owner.token), 4 + 100 * 6);
    ok(await app.gql(query, { slug: organization.slug, first: 10 }, owner.token));
    ok(await app.gql(query, { slug: organization.slug }, owner.token));
  });

  it("invoice lines count first times the fields of each line, for each invoice of the invoices' page", async () => {
    const nested = `query ($slug: String!, $invoices: Int, $lines: Int) { organization(slug: $slug) { billing {
      invoices(first: $invoices) { nodes { lines(first: $lines) { nodes { description amountCents } } } }
    } } }`;
    // organization, billing, invoices, nodes, then per invoice: lines, nodes and 2 fields per line.
    tooExpensive(
      await app.gql(nested, { slug: organization.slug, invoices: 10, lines: 10 }, owner.token),
      4 + 10 * (2 + 10 * 2),
    );
    ok(await app.gql(nested, { slug: organization.slug, invoices: 10, lines: 5 }, owner.token));

    const upcoming = `query ($slug: String!, $first: Int) { organization(slug: $slug) { billing {
      upcomingInvoice { lines(first: $first) { nodes { description amountCents } } }
    } } }`;
    tooExpensive(await app.gql(upcoming, { slug: organization.slug, first: 100 }, owner.token), 5 + 100 * 2);
    ok(await app.gql(upcoming, { slug: organization.slug, first: 50 }, owner.token));
  });
});
