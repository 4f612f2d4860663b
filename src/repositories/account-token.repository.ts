import type { EntityManager } from 'typeorm';
import { AccountToken, type AccountTokenPurpose } from '../entities/account-token.entity';

export const accountTokenRepository = {
  /** A new token replaces the user's unused ones of the same purpose: only the latest mail's link works. */
  async replace(
    tx: EntityManager,
    values: Pick<AccountToken, 'userId' | 'purpose' | 'tokenHash' | 'email' | 'expiresAt'>,
  ): Promise<void> {
    await accountTokenRepository.dropUnused(tx, values.userId, values.purpose);
    await tx.insert(AccountToken, { ...values, usedAt: null });
  },

  async dropUnused(tx: EntityManager, userId: string, purpose: AccountTokenPurpose): Promise<void> {
    await tx.query('DELETE FROM platform.account_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL', [
      userId,
      purpose,
    ]);
  },

  /** The unused, unexpired token of this purpose with this hash, locked; null for any other. */
  async usableForUpdate(
    tx: EntityManager,
    purpose: AccountTokenPurpose,
    tokenHash: string,
  ): Promise<AccountToken | null> {
    const rows = await tx.query<Record<string, unknown>[]>(
      `SELECT id, user_id, email FROM platform.account_tokens
       WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now() FOR UPDATE`,
      [tokenHash, purpose],
    );
    if (!rows.length) return null;
    return Object.assign(new AccountToken(), {
      id: rows[0].id as string,
      userId: rows[0].user_id as string,
      email: rows[0].email as string,
      purpose,
    });
  },

  async markUsed(tx: EntityManager, id: string): Promise<void> {
    await tx.query('UPDATE platform.account_tokens SET used_at = now(), updated_at = now() WHERE id = $1', [id]);
  },

  /** Removes tokens expired before `asOf`, used or not; how many. */
  async deleteExpired(db: EntityManager, asOf: Date): Promise<number> {
    const [rows] = await db.query<[unknown[], number]>(
      'DELETE FROM platform.account_tokens WHERE expires_at < $1 RETURNING id',
      [asOf],
    );
    return rows.length;
  },
};
