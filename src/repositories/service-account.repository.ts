import type { DataSource, EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import { ServiceAccount } from '../entities/service-account.entity';
import type { OrganizationRole } from '../entities/user-role.entity';
import { byKey, matching } from './matching';
import type { PageWindow, Rows } from './organization-details';
import { SERVICE_ACCOUNT } from './shapes';
import { parameters } from './visibility';

type Row = Record<string, unknown>;

export const serviceAccountRepository = {
  async byIds(db: DataSource, ids: readonly string[]): Promise<(ServiceAccount | null)[]> {
    const { params, add } = parameters();
    const rows = await leanQuery<Row>(
      db,
      `SELECT ${SERVICE_ACCOUNT.select('s')} FROM platform.service_accounts s WHERE ${matching('s.id', ids, add)}`,
      params,
    );
    return byKey(
      ids,
      rows.map((row) => SERVICE_ACCOUNT.fromRow(row)),
      (account) => account.id,
    );
  },

  /** The organization each API key's service account belongs to (absent: no such key). */
  async organizationsOfKeys(db: DataSource, keyIds: readonly string[]): Promise<Map<string, string>> {
    const { params, add } = parameters();
    const rows = await leanQuery<Row>(
      db,
      `SELECT k.id, s.organization_id FROM platform.access_keys k JOIN platform.service_accounts s ON s.id = k.service_account_id
       WHERE ${matching('k.id', keyIds, add)}`,
      params,
    );
    return new Map(rows.map((row) => [row.id as string, row.organization_id as string]));
  },

  /** A page of an organization's service accounts, oldest first, with the total. */
  async page(db: DataSource, organizationId: string, window: PageWindow): Promise<Rows<ServiceAccount>> {
    const rows = await leanQuery<Row>(
      db,
      `SELECT * FROM (
         SELECT ${SERVICE_ACCOUNT.select('s')}, count(*) OVER () AS total FROM platform.service_accounts s
         WHERE s.organization_id = $1) page
       WHERE $2::timestamptz IS NULL OR (page.created_at, page.id) > ($2::timestamptz, $3::uuid)
       ORDER BY page.created_at, page.id LIMIT $4`,
      [organizationId, window.after?.createdAt ?? null, window.after?.id ?? null, window.limit + 1],
    );
    if (rows.length)
      return { rows: rows.map((row) => SERVICE_ACCOUNT.fromRow(row)), totalCount: Number(rows[0].total) };
    const [count] = await leanQuery<{ total: string }>(
      db,
      'SELECT count(*) AS total FROM platform.service_accounts WHERE organization_id = $1',
      [organizationId],
    );
    return { rows: [], totalCount: Number(count.total) };
  },

  insert(
    tx: EntityManager,
    values: Pick<ServiceAccount, 'organizationId' | 'name' | 'role' | 'createdById'>,
  ): Promise<ServiceAccount> {
    return tx.save(tx.create(ServiceAccount, values));
  },

  /** Read in the transaction, locked: after the organization's lock, like every membership change. */
  forUpdate(tx: EntityManager, id: string): Promise<ServiceAccount | null> {
    return tx
      .getRepository(ServiceAccount)
      .createQueryBuilder('s')
      .setLock('pessimistic_write')
      .where('s.id = :id', { id })
      .getOne();
  },

  async update(tx: EntityManager, id: string, changes: { name?: string; role?: OrganizationRole }): Promise<void> {
    if (Object.keys(changes).length > 0) await tx.update(ServiceAccount, { id }, changes);
  },

  /** Its keys and grants go with it (ON DELETE CASCADE). */
  async delete(tx: EntityManager, id: string): Promise<boolean> {
    return Boolean((await tx.delete(ServiceAccount, { id })).affected);
  },
};
