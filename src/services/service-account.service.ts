import { AUDIT_ACTIONS, diff, type AuditAction } from '../audit/actions';
import { recordAudit } from './audit.service';
import type { EntityManager } from 'typeorm';
import type { OrganizationDecision } from '../auth/access';
import type { AccessKey } from '../entities/access-key.entity';
import type { Organization } from '../entities/organization.entity';
import type { ServiceAccount } from '../entities/service-account.entity';
import { OrganizationRole } from '../entities/user-role.entity';
import type { User } from '../entities/user.entity';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../errors';
import { pageRequest, toPage } from '../graphql/pagination';
import { assertUuid } from '../inputs/ids';
import type { CreateServiceAccountInput, UpdateServiceAccountInput } from '../inputs/machine-access.inputs';
import { PrincipalKind, roleAtLeast } from '../permissions';
import { accessKeyRepository } from '../repositories/access-key.repository';
import { serviceAccountRepository } from '../repositories/service-account.repository';
import { requireUser, type RequestContext } from '../request/context';
import { inTransaction } from '../request/transaction';
import type { Page } from '../types/connection.type';
import { capGrants, lockedCallerRole } from './membership.service';
import { lockLiveOrganization, type LockOptions } from './organization-lock';

const ABOVE_OWN_ROLE = 'You cannot manage a service account with a role above your own';

/** Nobody grants what they do not hold: the caller's role bounds the service account's, before and after. */
function assertWithin(callerRole: OrganizationRole, ...roles: (OrganizationRole | null | undefined)[]): void {
  for (const role of roles) {
    if (role === OrganizationRole.OWNER) {
      throw BadUserInputError.field(
        'role',
        'role must be ADMIN, MEMBER or VIEWER: a service account is never an owner',
      );
    }
    if (role && !roleAtLeast(callerRole, role)) throw new ForbiddenError(ABOVE_OWN_ROLE);
  }
}

/**
 * The organization's lock and the caller's role read under it, then the service account locked:
 * NOT_FOUND when it is gone (or belongs to another organization).
 */
export async function lockedServiceAccount(
  ctx: RequestContext,
  tx: EntityManager,
  organization: Organization,
  id: string,
  options: LockOptions = {},
): Promise<{ account: ServiceAccount; callerRole: OrganizationRole }> {
  await lockLiveOrganization(tx, organization.id, () => new NotFoundError('Service account'), options);
  const callerRole = await lockedCallerRole(ctx, tx, organization);
  const account = await serviceAccountRepository.forUpdate(tx, id);
  if (account?.organizationId !== organization.id) throw new NotFoundError('Service account');
  return { account, callerRole };
}

export class ServiceAccountService {
  async list(
    ctx: RequestContext,
    organization: Organization,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<ServiceAccount>> {
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await serviceAccountRepository.page(ctx.db, organization.id, window);
    return toPage(rows, window.limit, totalCount);
  }

  async create(
    ctx: RequestContext,
    access: OrganizationDecision,
    input: CreateServiceAccountInput,
  ): Promise<ServiceAccount> {
    const userId = requireUser(ctx);
    const { organization, role } = await access.get();
    assertWithin(role, input.role);
    return inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, organization.id, () => new NotFoundError('Organization', organization.slug));
      assertWithin(await lockedCallerRole(ctx, tx, organization), input.role);
      const account = await serviceAccountRepository.insert(tx, {
        organizationId: organization.id,
        name: input.name.trim(),
        role: input.role,
        createdById: userId,
      });
      await recordAudit(ctx, tx, {
        ...accountEvent(AUDIT_ACTIONS.createServiceAccount, account),
        changes: diff(null, { name: account.name, role: account.role }),
      });
      return account;
    });
  }

  /** A lower role takes effect on the next request; a viewer keeps at most read grants. */
  async update(
    ctx: RequestContext,
    access: OrganizationDecision,
    id: string,
    input: UpdateServiceAccountInput,
  ): Promise<ServiceAccount> {
    assertUuid('id', id);
    const { organization } = await access.get();
    return inTransaction(ctx, async (tx) => {
      const { account, callerRole } = await lockedServiceAccount(ctx, tx, organization, id);
      assertWithin(callerRole, account.role, input.role);
      const changes = {
        ...(input.name != null && { name: input.name.trim() }),
        ...(input.role && { role: input.role }),
      };
      await serviceAccountRepository.update(tx, id, changes);
      if (input.role) await capGrants(tx, organization.id, { kind: PrincipalKind.SERVICE_ACCOUNT, id }, input.role);
      const before = { name: account.name, role: account.role };
      Object.assign(account, changes);
      await recordAudit(ctx, tx, {
        ...accountEvent(AUDIT_ACTIONS.updateServiceAccount, account),
        changes: diff(before, { name: account.name, role: account.role }),
      });
      return account;
    });
  }

  /** Its keys stop working on the next request, on every replica; its grants go with it. */
  async delete(ctx: RequestContext, access: OrganizationDecision, id: string): Promise<boolean> {
    assertUuid('id', id);
    const { organization } = await access.get();
    const told = await inTransaction(ctx, async (tx) => {
      const { account, callerRole } = await lockedServiceAccount(ctx, tx, organization, id, { withdraws: true });
      assertWithin(callerRole, account.role);
      await recordAudit(ctx, tx, {
        ...accountEvent(AUDIT_ACTIONS.deleteServiceAccount, account),
        changes: diff({ name: account.name, role: account.role }, null),
      });
      await serviceAccountRepository.delete(tx, id);
      return accessKeyRepository.invalidate(tx, `principal:${id}`);
    });
    await ctx.accessKeys.forget(told);
    return true;
  }

  async createdBy(ctx: RequestContext, account: ServiceAccount): Promise<User | null> {
    return account.createdById ? ctx.loaders.userById.load(account.createdById) : null;
  }

  apiKeys(ctx: RequestContext, account: ServiceAccount): Promise<AccessKey[]> {
    return ctx.loaders.apiKeysOf.load(account.id);
  }
}

function accountEvent(action: AuditAction, account: ServiceAccount) {
  return {
    action,
    organizationId: account.organizationId,
    target: { type: 'service_account', id: account.id, label: account.name },
  };
}

export const serviceAccountService = new ServiceAccountService();
