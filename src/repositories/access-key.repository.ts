import type { DataSource, EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import { AccessKey } from '../entities/access-key.entity';
import { groupBy, matching } from './matching';
import { ACCESS_KEY } from './shapes';
import { parameters } from './visibility';

type Row = Record<string, unknown>;

/** The channel on which every replica hears that a key, a principal or an organization lost its keys. */
export const ACCESS_KEY_CHANNEL = 'platform_access_keys';

/** What authenticating with a key needs: its owner and state, and the hash to compare with. */
export interface KeyRecord {
  id: string;
  secretHash: string;
  userId: string | null;
  serviceAccountId: string | null;
  /** The service account's organization; null for a personal access token. */
  organizationId: string | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** What is told on the channel: `key:<lookup id>`, `principal:<id>` or `organization:<id>`. */
export type KeyInvalidation = `key:${string}` | `principal:${string}` | `organization:${string}`;

export const accessKeyRepository = {
  /** The one read that authenticates a key (then remembered per process until told otherwise). */
  async byLookupId(db: DataSource, lookupId: string): Promise<KeyRecord | null> {
    const rows = await leanQuery<Row>(
      db,
      `SELECT k.id, k.secret_hash, k.user_id, k.service_account_id, s.organization_id, k.expires_at, k.revoked_at,
              k.last_used_at
       FROM platform.access_keys k LEFT JOIN platform.service_accounts s ON s.id = k.service_account_id WHERE k.lookup_id = $1`,
      [lookupId],
    );
    if (!rows.length) return null;
    const row = rows[0];
    return {
      id: row.id as string,
      secretHash: row.secret_hash as string,
      userId: row.user_id as string | null,
      serviceAccountId: row.service_account_id as string | null,
      organizationId: row.organization_id as string | null,
      expiresAt: row.expires_at as Date | null,
      revokedAt: row.revoked_at as Date | null,
      lastUsedAt: row.last_used_at as Date | null,
    };
  },

  /** Records a use, at most once a minute per key whichever replica asks; outside any request's transaction. */
  async touch(db: DataSource, id: string): Promise<void> {
    await db.query(
      `UPDATE platform.access_keys SET last_used_at = now()
       WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [id],
    );
  },

  /** The keys of each service account, newest first, revoked ones included. */
  async ofServiceAccounts(db: DataSource, ids: readonly string[]): Promise<AccessKey[][]> {
    const { params, add } = parameters();
    const rows = await leanQuery<Row>(
      db,
      `SELECT ${ACCESS_KEY.select('k')} FROM platform.access_keys k WHERE ${matching('k.service_account_id', ids, add)}
       ORDER BY k.created_at DESC, k.id`,
      params,
    );
    return groupBy(
      ids,
      rows.map((row) => ACCESS_KEY.fromRow(row)),
      (key) => key.serviceAccountId as string,
    );
  },

  /** A user's personal access tokens, newest first, revoked ones included. */
  async ofUser(db: DataSource, userId: string): Promise<AccessKey[]> {
    const rows = await leanQuery<Row>(
      db,
      `SELECT ${ACCESS_KEY.select('k')} FROM platform.access_keys k WHERE k.user_id = $1 ORDER BY k.created_at DESC, k.id`,
      [userId],
    );
    return rows.map((row) => ACCESS_KEY.fromRow(row));
  },

  async insert(
    tx: EntityManager,
    values: Pick<AccessKey, 'lookupId' | 'secretHash' | 'name' | 'serviceAccountId' | 'userId' | 'expiresAt'>,
  ): Promise<AccessKey> {
    const saved = await tx.save(tx.create(AccessKey, values));
    delete (saved as Partial<AccessKey>).secretHash;
    return saved;
  },

  /** A key by id (its secret's hash left out); null when there is none. */
  byId(tx: EntityManager, id: string): Promise<AccessKey | null> {
    return tx.findOneBy(AccessKey, { id });
  },

  /** Marks it revoked (once: a second revocation changes nothing) and tells every replica; what was told. */
  async revoke(tx: EntityManager, key: AccessKey): Promise<KeyInvalidation> {
    await tx.query(
      'UPDATE platform.access_keys SET revoked_at = now(), updated_at = now() WHERE id = $1 AND revoked_at IS NULL',
      [key.id],
    );
    return accessKeyRepository.invalidate(tx, `key:${key.lookupId}`);
  },

  /** Revokes every live personal access token of the user and tells every replica; the number revoked. */
  async revokePersonalOf(tx: EntityManager, userId: string): Promise<number> {
    const [, revoked] = await tx.query<[unknown[], number]>(
      `UPDATE platform.access_keys SET revoked_at = now(), updated_at = now()
       WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId],
    );
    if (revoked) await accessKeyRepository.invalidate(tx, `principal:${userId}`);
    return revoked;
  },

  /** Tells every replica, when the transaction commits (NOTIFY is transactional), to forget what it knew. */
  async invalidate(tx: EntityManager, what: KeyInvalidation): Promise<KeyInvalidation> {
    await tx.query('SELECT pg_notify($1, $2)', [ACCESS_KEY_CHANNEL, what]);
    return what;
  },
};
