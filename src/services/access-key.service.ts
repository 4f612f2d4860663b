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
      return accessKeyRepository.insert(tx, {
        lookupId,
        secretHash,
        name: input.name.trim(),
        serviceAccountId: account.id,
        userId: null,
        expiresAt,
      });
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
    const key = await inTransaction(ctx, (tx) =>
      accessKeyRepository.insert(tx, {
        lookupId,
        secretHash,
        name: input.name.trim(),
        serviceAccountId: null,
        userId,
        expiresAt,
      }),
    );
    return { token: personalAccessTokenView(key), secret };
  }

  /** The caller's own tokens only: anyone else's is NOT_FOUND. */
  async revokePersonalAccessToken(ctx: RequestContext, id: string): Promise<boolean> {
    const userId = requireSessionUser(ctx);
    assertUuid('id', id);
    const told = await inTransaction(ctx, async (tx) => {
      const key = await accessKeyRepository.byId(tx, id);
      if (!key || key.userId !== userId) throw new NotFoundError('Personal access token');
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

export const accessKeyService = new AccessKeyService();
