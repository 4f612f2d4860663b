import { AUDIT_ACTIONS, diff, type AuditAction } from '../audit/actions';
import { recordAudit } from './audit.service';
import type { OrganizationDecision } from '../auth/access';
import { KeyKind, newSecret } from '../crypto/access-key-secrets';
import type { AccessKey } from '../entities/access-key.entity';
import type { User } from '../entities/user.entity';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../errors';
import { assertUuid } from '../inputs/ids';
import type { CreateApiKeyInput, CreatePersonalAccessTokenInput } from '../inputs/machine-access.inputs';
import { roleAtLeast } from '../permissions';
import { accessKeyRepository } from '../repositories/access-key.repository';
import { requireSessionUser, requireUser, type RequestContext } from '../request/context';
import { inTransaction } from '../request/transaction';
import {
  apiKeyView,
  personalAccessTokenView,
  type ApiKeyPayload,
  type PersonalAccessTokenPayload,
} from '../types/machine-access.types';
import { lockedServiceAccount } from './service-account.service';

/** An expiry must lie ahead: a key born expired is a mistake, not a key. */
function expiry(expiresAt: Date | null | undefined): Date | null {
  if (expiresAt == null) return null;
  if (expiresAt.getTime() <= Date.now()) throw BadUserInputError.field('expiresAt', 'expiresAt must be in the future');
  return expiresAt;
}

export class AccessKeyService {
  /** The secret is in the answer this once; only its hash is stored. */
  async createApiKey(
    ctx: RequestContext,
    access: OrganizationDecision,
    input: CreateApiKeyInput,
  ): Promise<ApiKeyPayload> {
    requireUser(ctx);
    const expiresAt = expiry(input.expiresAt);
    const { organization } = await access.get();
    const { secret, lookupId, secretHash } = newSecret(KeyKind.API_KEY);
    const key = await inTransaction(ctx, async (tx) => {
      const { account, callerRole } = await lockedServiceAccount(ctx, tx, organization, input.serviceAccountId);
      if (!roleAtLeast(callerRole, account.role)) {
        throw new ForbiddenError('You cannot make keys for a service account with a role above your own');
      }
      const created = await accessKeyRepository.insert(tx, {
        lookupId,
        secretHash,
        name: input.name.trim(),
        serviceAccountId: account.id,
        userId: null,
        expiresAt,
      });
      await recordAudit(ctx, tx, {
        ...keyEvent(AUDIT_ACTIONS.createApiKey, created, organization.id),
        changes: diff(null, { name: created.name, serviceAccountId: account.id, expiresAt, secret: 1 }, ['secret']),
      });
      return created;
    });
    return { apiKey: apiKeyView(key), secret };
  }

  /** UNAUTHENTICATED from the next request on, on every replica. Revoking a revoked key changes nothing. */
  async revokeApiKey(ctx: RequestContext, access: OrganizationDecision, id: string): Promise<boolean> {
    assertUuid('id', id);
    const { organization } = await access.get();
    const told = await inTransaction(ctx, async (tx) => {
      const key = await accessKeyRepository.byId(tx, id);
      if (!key?.serviceAccountId) throw new NotFoundError('API key');
      const { account, callerRole } = await lockedServiceAccount(ctx, tx, organization, key.serviceAccountId, {
        withdraws: true,
      });
      if (!roleAtLeast(callerRole, account.role)) {
        throw new ForbiddenError('You cannot revoke keys of a service account with a role above your own');
      }
      if (!key.revokedAt) await recordAudit(ctx, tx, keyEvent(AUDIT_ACTIONS.revokeApiKey, key, organization.id));
      return accessKeyRepository.revoke(tx, key);
    });
    await ctx.accessKeys.forget(told);
    return true;
  }

  async createPersonalAccessToken(
    ctx: RequestContext,
    input: CreatePersonalAccessTokenInput,
  ): Promise<PersonalAccessTokenPayload> {
    const userId = requireSessionUser(ctx);
    const expiresAt = expiry(input.expiresAt);
    const { secret, lookupId, secretHash } = newSecret(KeyKind.PERSONAL_ACCESS_TOKEN);
    const key = await inTransaction(ctx, async (tx) => {
      const created = await accessKeyRepository.insert(tx, {
        lookupId,
        secretHash,
        name: input.name.trim(),
        serviceAccountId: null,
        userId,
        expiresAt,
      });
      await recordAudit(ctx, tx, {
        ...keyEvent(AUDIT_ACTIONS.createPersonalAccessToken, created, null, userId),
        changes: diff(null, { name: created.name, expiresAt, secret: 1 }, ['secret']),
      });
      return created;
    });
    return { token: personalAccessTokenView(key), secret };
  }

  /** The caller's own tokens only: anyone else's is NOT_FOUND. */
  async revokePersonalAccessToken(ctx: RequestContext, id: string): Promise<boolean> {
    const userId = requireSessionUser(ctx);
    assertUuid('id', id);
    const told = await inTransaction(ctx, async (tx) => {
      const key = await accessKeyRepository.byId(tx, id);
      if (!key || key.userId !== userId) throw new NotFoundError('Personal access token');
      if (!key.revokedAt) {
        await recordAudit(ctx, tx, keyEvent(AUDIT_ACTIONS.revokePersonalAccessToken, key, null, userId));
      }
      return accessKeyRepository.revoke(tx, key);
    });
    await ctx.accessKeys.forget(told);
    return true;
  }

  /** A user's tokens, for that user alone. */
  async personalAccessTokens(ctx: RequestContext, user: User): Promise<AccessKey[]> {
    if (requireUser(ctx) !== user.id) throw new ForbiddenError('Only the user sees their personal access tokens');
    return accessKeyRepository.ofUser(ctx.db, user.id);
  }
}

/** A key's event: an API key in its organization, a personal access token in its user's account. */
function keyEvent(action: AuditAction, key: AccessKey, organizationId: string | null, accountId: string | null = null) {
  const type = key.serviceAccountId ? 'api_key' : 'personal_access_token';
  return { action, organizationId, accountId, target: { type, id: key.id, label: key.name } };
}

export const accessKeyService = new AccessKeyService();
