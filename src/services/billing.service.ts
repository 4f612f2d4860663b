import { AUDIT_ACTIONS, diff } from '../audit/actions';
import { recordAudit } from './audit.service';
import type { OrganizationDecision } from '../auth/access';
import type { BillingAddress } from '../entities/organization.entity';
import { NotFoundError } from '../errors';
import type { UpdateBillingDetailsInput } from '../inputs/billing.inputs';
import { billingAccountRepository, type BillingDetailsChanges } from '../repositories/billing-account.repository';
import type { RequestContext } from '../request/context';
import { inTransaction } from '../request/transaction';
import { lockLiveOrganization } from './organization-lock';
import { requireBilling } from './billing-switch';
import { Billing, BillingDetailsView } from '../types/billing.types';

function trimmed(value: string | null | undefined): string | undefined {
  const text = value?.trim();
  return text ? text : undefined;
}

function detailsChanges(input: UpdateBillingDetailsInput): BillingDetailsChanges {
  const changes: BillingDetailsChanges = {};
  if (input.email !== undefined) changes.billingEmail = trimmed(input.email) ?? null;
  if (input.taxId !== undefined) changes.taxId = trimmed(input.taxId) ?? null;
  if (input.address !== undefined) {
    const address = input.address;
    changes.billingAddress = address
      ? ({
          line1: address.line1.trim(),
          line2: trimmed(address.line2),
          city: address.city.trim(),
          postalCode: address.postalCode.trim(),
          region: trimmed(address.region),
          country: address.country,
        } satisfies BillingAddress)
      : null;
  }
  return changes;
}

/** An organization's billing as a whole, and whom its invoices are addressed to. */
export class BillingService {
  async of(ctx: RequestContext, access: OrganizationDecision): Promise<Billing> {
    requireBilling(ctx);
    const { organization } = await access.get();
    return new Billing(organization.id);
  }

  async details(_ctx: RequestContext, access: OrganizationDecision): Promise<BillingDetailsView> {
    const { organization } = await access.get();
    return BillingDetailsView.from(organization);
  }

  async updateDetails(
    ctx: RequestContext,
    access: OrganizationDecision,
    input: UpdateBillingDetailsInput,
  ): Promise<BillingDetailsView> {
    requireBilling(ctx);
    const { organization } = await access.get();
    const changes = detailsChanges(input);
    return inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, organization.id);
      const changed = await billingAccountRepository.updateDetails(tx, organization.id, changes);
      // Deleted while this request ran.
      if (!changed) throw new NotFoundError('Organization');
      await recordAudit(ctx, tx, {
        action: AUDIT_ACTIONS.updateBillingDetails,
        organizationId: organization.id,
        target: { type: 'organization', id: organization.id, label: organization.slug },
        changes: diff(null, changes as Record<string, unknown>),
      });
      return BillingDetailsView.from(changed);
    });
  }
}

export const billingService = new BillingService();
