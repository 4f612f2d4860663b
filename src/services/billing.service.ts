import { organizationAccess } from '../auth/access';
import type { RequestContext } from '../request/context';
import { Permission } from '../permissions';
import { inTransaction } from '../request/transaction';
import { Organization, type BillingAddress } from '../entities/organization.entity';
import type { UpdateBillingDetailsInput } from '../inputs/billing.inputs';
import { Billing, BillingDetailsView } from '../types/billing.types';

function trimmed(value: string | null | undefined): string | undefined {
  const text = value?.trim();
  return text ? text : undefined;
}

/** An organization's billing as a whole, and whom its invoices are addressed to. */
export class BillingService {
  of(organization: Organization): Billing {
    return new Billing(organization.id);
  }

  async details(ctx: RequestContext, billing: Billing): Promise<BillingDetailsView> {
    const { organization } = await organizationAccess(ctx, { id: billing.organizationId }, Permission.BillingRead);
    return BillingDetailsView.from(organization);
  }

  async updateDetails(ctx: RequestContext, input: UpdateBillingDetailsInput): Promise<BillingDetailsView> {
    const { organization } = await organizationAccess(ctx, { slug: input.organizationSlug }, Permission.BillingManage);
    const changes: Partial<Organization> = {};
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
    return inTransaction(ctx, async (tx) => {
      if (Object.keys(changes).length > 0) await tx.update(Organization, { id: organization.id }, changes);
      return BillingDetailsView.from(await tx.findOneByOrFail(Organization, { id: organization.id }));
    });
  }
}

export const billingService = new BillingService();
