import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  given,
  holdRowLock,
  lockWaiters,
  ok,
  type TestOrganization,
  type TestPaymentMethod,
  type TestUser,
} from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

const DELETE_ORGANIZATION = 'mutation ($slug: String!) { deleteOrganization(slug: $slug) }';
const UPCOMING = 'query ($slug: String!) { organization(slug: $slug) { billing { upcomingInvoice { id } } } }';

interface Scene {
  owner: TestUser;
  organization: TestOrganization;
  card: TestPaymentMethod;
  draftId: string;
}

type Write = (app: TestApp, scene: Scene) => Promise<GraphQLResponse<unknown>>;

/** Every billing mutation, each aimed at the scene's organization. */
const WRITES: Record<string, Write> = {
  updateBillingDetails: (app, { owner, organization }) =>
    app.gql(
      'mutation ($input: UpdateBillingDetailsInput!) { updateBillingDetails(input: $input) { taxId } }',
      { input: { organizationSlug: organization.slug, taxId: 'GB123456789' } },
      owner.token,
    ),
  changePlan: (app, { owner, organization }) =>
    app.gql(
      'mutation ($input: ChangePlanInput!) { changePlan(input: $input) { status } }',
      { input: { organizationSlug: organization.slug, planCode: 'team' } },
      owner.token,
    ),
  cancelSubscription: (app, { owner, organization }) =>
    app.gql(
      'mutation ($slug: String!) { cancelSubscription(organizationSlug: $slug) { cancelAtPeriodEnd } }',
      { slug: organization.slug },
      owner.token,
    ),
  resumeSubscription: (app, { owner, organization }) =>
    app.gql(
      'mutation ($slug: String!) { resumeSubscription(organizationSlug: $slug) { cancelAtPeriodEnd } }',
      { slug: organization.slug },
      owner.token,
    ),
  addPaymentMethod: (app, { owner, organization }) =>
    app.gql(
      'mutation ($input: AddPaymentMethodInput!) { addPaymentMethod(input: $input) { id } }',
      { input: { organizationSlug: organization.slug, token: 'tok_amex' } },
      owner.token,
    ),
  setDefaultPaymentMethod: (app, { owner, organization, card }) =>
    app.gql(
      'mutation ($slug: String!, $id: ID!) { setDefaultPaymentMethod(organizationSlug: $slug, id: $id) { id } }',
      { slug: organization.slug, id: card.id },
      owner.token,
    ),
  removePaymentMethod: (app, { owner, organization, card }) =>
    app.gql(
      'mutation ($slug: String!, $id: ID!) { removePaymentMethod(organizationSlug: $slug, id: $id) }',
      { slug: organization.slug, id: card.id },
      owner.token,
    ),
  payInvoice: (app, { owner, organization, draftId }) =>
    app.gql(
      'mutation ($slug: String!, $id: ID!) { payInvoice(organizationSlug: $slug, invoiceId: $id) { status } }',
      { slug: organization.slug, id: draftId },
      owner.token,
    ),
};

const BILLING_TABLES = ['subscriptions', 'payment_methods', 'invoices'];

describe('billing writes racing the deletion of their organization', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  before(async () => {
    app = await startTestApp();
    make = given(app);
  });
  after(() => app.close());

  /** The organization's billing rows, whole, to hold a refused write to having changed nothing. */
  async function billingRows(organizationId: string): Promise<unknown[][]> {
    const rows: unknown[][] = [];
    for (const table of BILLING_TABLES) {
      rows.push(await app.sql(`SELECT * FROM ${table} WHERE organization_id = $1 ORDER BY id`, [organizationId]));
    }
    rows.push(
      await app.sql('SELECT billing_email, tax_id, billing_address FROM organizations WHERE id = $1', [organizationId]),
    );
    return rows;
  }

  /** An organization on a paid plan: a default card and the period's draft invoice. */
  async function scene(): Promise<Scene> {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const card = await make.paymentMethod({ organization, by: owner });
    await make.changePlan({ organization, by: owner, plan: 'pro' });
    const { organization: found } = ok(
      await app.gql<{ organization: { billing: { upcomingInvoice: { id: string } } } }>(
        UPCOMING,
        { slug: organization.slug },
        owner.token,
      ),
    );
    return { owner, organization, card, draftId: found.billing.upcomingInvoice.id };
  }

  for (const [name, write] of Object.entries(WRITES)) {
    it(`${name}, let in before the organization was deleted and run after, is NOT_FOUND and writes nothing`, async () => {
      const current = await scene();
      const { organization, owner } = current;
      const before = await billingRows(organization.id);
      // The deletion queues on the organization's row first; the write passes its guard, then queues behind it.
      const lock = await holdRowLock(app, 'organizations', organization.id);
      let deletion: Promise<GraphQLResponse<unknown>>;
      let attempt: Promise<GraphQLResponse<unknown>>;
      try {
        deletion = app.gql(DELETE_ORGANIZATION, { slug: organization.slug }, owner.token);
        await lockWaiters(app, 1);
        attempt = write(app, current);
        await lockWaiters(app, 2);
      } finally {
        await lock.release();
      }
      assert.deepEqual(ok(await deletion), { deleteOrganization: true });
      const response = await attempt;
      assert.deepEqual(
        response.errors?.map((error) => error.extensions.code),
        ['NOT_FOUND'],
        JSON.stringify(response.errors),
      );
      assert.deepEqual(await billingRows(organization.id), before, 'the write changed nothing');
    });
  }
});
