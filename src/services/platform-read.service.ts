import type { PlatformDecision } from '../auth/access';
import { NotFoundError } from '../errors';
import { pageRequest, toPage } from '../graphql/pagination';
import { membershipRepository } from '../repositories/membership.repository';
import { platformRepository } from '../repositories/platform.repository';
import { userRepository } from '../repositories/user.repository';
import type { RequestContext } from '../request/context';
import type { Page } from '../types/connection.type';
import { requireBilling } from './billing-switch';
import { invoiceService } from './billing-invoice.service';
import { paymentMethodService } from './billing-payment-method.service';
import { subscriptionService } from './billing-subscription.service';
import type { InvoiceView, PaymentMethodView, SubscriptionView } from '../types/billing.types';
import {
  Platform,
  PlatformBilling,
  PlatformMember,
  PlatformOrganization,
  PlatformProject,
  PlatformUser,
} from '../types/platform.types';

/** A search term, trimmed; blank is no search. */
function searchTerm(search: string | null | undefined): string | null {
  const term = search?.trim();
  return term ? term : null;
}

/** What platform admins and viewers read: every tenant, every account. Reading makes nobody a member. */
export class PlatformReadService {
  async platform(_ctx: RequestContext, access: PlatformDecision): Promise<Platform> {
    await access.get();
    return new Platform();
  }
  async organizations(
    ctx: RequestContext,
    access: PlatformDecision,
    search?: string | null,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<PlatformOrganization>> {
    await access.get();
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await platformRepository.organizationPage(ctx.db, searchTerm(search), window);
    const page = toPage(
      rows.map((row) => Object.assign(row, { id: row.organization.id, createdAt: row.organization.createdAt })),
      window.limit,
      totalCount,
    );
    return { ...page, nodes: page.nodes.map((row) => PlatformOrganization.from(row.organization, row)) };
  }

  /** Deleted organizations included, until they are purged. */
  async organization(ctx: RequestContext, access: PlatformDecision, slug: string): Promise<PlatformOrganization> {
    await access.get();
    const row = await platformRepository.organizationBySlug(ctx.db, slug);
    if (!row) throw new NotFoundError('Organization', slug);
    return PlatformOrganization.from(row.organization, row);
  }

  async members(
    ctx: RequestContext,
    access: PlatformDecision,
    organization: PlatformOrganization,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<PlatformMember>> {
    await access.get();
    const window = pageRequest(ctx, first, after);
    const pages = await membershipRepository.pagesFor(ctx.db, [organization.id], window);
    const { rows, totalCount } = pages.get(organization.id) ?? { rows: [], totalCount: 0 };
    const members = rows.map(({ membership, user }) =>
      Object.assign(new PlatformMember(), {
        id: membership.id,
        role: membership.role,
        createdAt: membership.createdAt,
        user: PlatformUser.from(user),
      }),
    );
    return toPage(members, window.limit, totalCount);
  }

  async projects(
    ctx: RequestContext,
    access: PlatformDecision,
    organization: PlatformOrganization,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<PlatformProject>> {
    await access.get();
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await platformRepository.projectPage(ctx.db, organization.id, window);
    return toPage(
      rows.map((project) => PlatformProject.from(project)),
      window.limit,
      totalCount,
    );
  }

  async billing(ctx: RequestContext, access: PlatformDecision, organization: PlatformOrganization) {
    await access.get();
    requireBilling(ctx);
    return new PlatformBilling(organization.id);
  }

  async subscription(
    ctx: RequestContext,
    access: PlatformDecision,
    billing: PlatformBilling,
  ): Promise<SubscriptionView> {
    await access.get();
    return subscriptionService.getOf(ctx, billing.organizationId);
  }

  async invoices(
    ctx: RequestContext,
    access: PlatformDecision,
    billing: PlatformBilling,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<InvoiceView>> {
    await access.get();
    return invoiceService.listOf(ctx, billing.organizationId, first, after);
  }

  async paymentMethods(
    ctx: RequestContext,
    access: PlatformDecision,
    billing: PlatformBilling,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<PaymentMethodView>> {
    await access.get();
    return paymentMethodService.listOf(ctx, billing.organizationId, first, after);
  }

  async users(
    ctx: RequestContext,
    access: PlatformDecision,
    search?: string | null,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<PlatformUser>> {
    await access.get();
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await userRepository.page(ctx.db, searchTerm(search), window);
    const page = toPage(rows, window.limit, totalCount);
    return { ...page, nodes: page.nodes.map((user) => PlatformUser.from(user)) };
  }
}

export const platformReadService = new PlatformReadService();
