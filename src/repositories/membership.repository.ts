import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import { Invitation } from '../entities/invitation.entity';
import { OrganizationRole, UserRole } from '../entities/user-role.entity';
import type { User } from '../entities/user.entity';
import { matching } from './matching';
import type { PageWindow, Rows } from './organization-details';
import { MEMBERSHIP, USER } from './shapes';
import { parameters, tablesOf } from './visibility';
import type { Principal } from '../permissions';

type Row = Record<string, unknown>;

export const membershipRepository = {
  /** The caller's role in each organization (absent: not a member). */
  async rolesOf(
    db: DataSource,
    viewer: Principal,
    organizationIds: readonly string[],
  ): Promise<Map<string, OrganizationRole>> {
    const tables = tablesOf(viewer);
    const { params, add } = parameters([viewer.id]);
    const rows = await leanQuery<Row>(
      db,
      `SELECT organization_id, role FROM ${tables.roles} WHERE ${tables.roleHolder} = $1 AND ${matching('organization_id', organizationIds, add)}`,
      params,
    );
    return new Map(rows.map((row) => [row.organization_id as string, row.role as OrganizationRole]));
  },

  /** A page of each organization's members with their users, oldest first, with each total, in one statement. */
  async pagesFor(
    db: DataSource,
    organizationIds: readonly string[],
    window: PageWindow,
  ): Promise<Map<string, Rows<{ membership: UserRole; user: User }>>> {
    const { params, add } = parameters([window.after?.createdAt ?? null, window.after?.id ?? null]);
    const isAfter = '($1::timestamptz IS NULL OR (m.created_at, m.id) > ($1::timestamptz, $2::uuid))';
    const rows = await leanQuery<Row>(
      db,
      `SELECT * FROM (
         SELECT ${MEMBERSHIP.select('m')}, ${USER.select('u', 'u_')},
                count(*) OVER (PARTITION BY m.organization_id) AS total, ${isAfter} AS after,
                row_number() OVER (PARTITION BY m.organization_id ORDER BY ${isAfter} DESC, m.created_at, m.id) AS n
         FROM platform.user_roles m JOIN platform.users u ON u.id = m.user_id
         WHERE ${matching('m.organization_id', organizationIds, add)}
       ) page WHERE page.after AND page.n <= ${add(window.limit + 1)} OR page.n = 1
       ORDER BY page.organization_id, page.created_at, page.id`,
      params,
    );
    const pages = new Map<string, Rows<{ membership: UserRole; user: User }>>(
      organizationIds.map((id) => [id, { rows: [], totalCount: 0 }]),
    );
    for (const row of rows) {
      const page = pages.get(row.organization_id as string);
      if (!page) continue;
      page.totalCount = Number(row.total);
      if (row.after) page.rows.push({ membership: MEMBERSHIP.fromRow(row), user: USER.fromRow(row, 'u_') });
    }
    return pages;
  },

  /** A user's membership, read in the transaction (after the organization's lock). */
  find(tx: EntityManager, organizationId: string, userId: string): Promise<UserRole | null> {
    return tx.findOneBy(UserRole, { organizationId, userId });
  },

  async isMemberByEmail(tx: EntityManager, organizationId: string, email: string): Promise<boolean> {
    const rows = await tx.query<unknown[]>(
      'SELECT 1 FROM platform.user_roles r JOIN platform.users u ON u.id = r.user_id WHERE r.organization_id = $1 AND u.email = $2',
      [organizationId, email],
    );
    return rows.length > 0;
  },

  insert(tx: EntityManager, membership: Pick<UserRole, 'organizationId' | 'userId' | 'role'>): Promise<UserRole> {
    return tx.save(tx.create(UserRole, membership));
  },

  async setRole(tx: EntityManager, id: string, role: OrganizationRole): Promise<void> {
    await tx.update(UserRole, { id }, { role });
  },

  async delete(tx: EntityManager, organizationId: string, userId: string): Promise<void> {
    await tx.delete(UserRole, { organizationId, userId });
  },

  ownerCount(tx: EntityManager, organizationId: string): Promise<number> {
    return tx.countBy(UserRole, { organizationId, role: OrganizationRole.OWNER });
  },
};

export const invitationRepository = {
  /** A new invitation replaces a pending one for the same address. */
  async replacePending(
    tx: EntityManager,
    values: Pick<Invitation, 'organizationId' | 'email' | 'role' | 'tokenHash' | 'expiresAt' | 'invitedById'>,
  ): Promise<Invitation> {
    await tx.delete(Invitation, { organizationId: values.organizationId, email: values.email, acceptedAt: IsNull() });
    return tx.save(tx.create(Invitation, values));
  },

  /** A platform invitation (to sign up, joining no organization) replaces a pending one for the same address. */
  async replacePendingPlatform(
    tx: EntityManager,
    values: Pick<Invitation, 'email' | 'tokenHash' | 'expiresAt' | 'invitedById'>,
  ): Promise<Invitation> {
    await tx.delete(Invitation, { organizationId: IsNull(), email: values.email, acceptedAt: IsNull() });
    return tx.save(tx.create(Invitation, { ...values, organizationId: null, role: null }));
  },

  /** The pending invitation with this token hash, unlocked. */
  pending(tx: EntityManager, tokenHash: string): Promise<Invitation | null> {
    return tx.findOneBy(Invitation, { tokenHash, acceptedAt: IsNull() });
  },

  /** The pending invitation with this token hash, locked until the transaction ends. */
  pendingForUpdate(tx: EntityManager, tokenHash: string): Promise<Invitation | null> {
    return tx
      .getRepository(Invitation)
      .createQueryBuilder('invitation')
      .setLock('pessimistic_write')
      .where('invitation.token_hash = :tokenHash AND invitation.accepted_at IS NULL', { tokenHash })
      .getOne();
  },

  /** Removes pending invitations that expired before `asOf`; how many. */
  async deleteExpired(db: EntityManager, asOf: Date): Promise<number> {
    // TypeORM answers an UPDATE or DELETE as [rows, count].
    const [rows] = await db.query<[unknown[], number]>(
      'DELETE FROM platform.invitations WHERE accepted_at IS NULL AND expires_at <= $1 RETURNING id',
      [asOf],
    );
    return rows.length;
  },

  async markAccepted(tx: EntityManager, id: string, userId: string): Promise<void> {
    await tx.update(Invitation, { id }, { acceptedAt: new Date(), acceptedById: userId });
  },

  /** The organization of a pending organization invitation; null for none. */
  async organizationOfPending(db: EntityManager, id: string): Promise<string | null> {
    const rows = await db.query<{ organization_id: string }[]>(
      'SELECT organization_id FROM platform.invitations WHERE id = $1 AND accepted_at IS NULL AND organization_id IS NOT NULL',
      [id],
    );
    return rows[0]?.organization_id ?? null;
  },

  /** A page of an organization's pending, unexpired invitations, oldest first, with the total. */
  async pendingPage(db: DataSource, organizationId: string, window: PageWindow): Promise<Rows<Invitation>> {
    const rows = await leanQuery<Row>(
      db,
      `SELECT * FROM (
         SELECT i.id, i.created_at, i.email, i.role, i.expires_at, i.invited_by_id, i.organization_id,
                count(*) OVER () AS total
         FROM platform.invitations i
         WHERE i.organization_id = $1 AND i.accepted_at IS NULL AND i.expires_at > now()) page
       WHERE $2::timestamptz IS NULL OR (page.created_at, page.id) > ($2::timestamptz, $3::uuid)
       ORDER BY page.created_at, page.id LIMIT $4`,
      [organizationId, window.after?.createdAt ?? null, window.after?.id ?? null, window.limit + 1],
    );
    const invitations = rows.map((row) =>
      Object.assign(new Invitation(), {
        id: row.id as string,
        createdAt: row.created_at as Date,
        email: row.email as string,
        role: row.role as OrganizationRole,
        expiresAt: row.expires_at as Date,
        invitedById: row.invited_by_id as string | null,
        organizationId: row.organization_id as string,
      }),
    );
    if (rows.length) return { rows: invitations, totalCount: Number(rows[0].total) };
    const [count] = await leanQuery<{ total: string }>(
      db,
      `SELECT count(*) AS total FROM platform.invitations
       WHERE organization_id = $1 AND accepted_at IS NULL AND expires_at > now()`,
      [organizationId],
    );
    return { rows: [], totalCount: Number(count.total) };
  },

  /** A pending invitation of the organization, in the transaction (after the organization's lock). */
  pendingIn(tx: EntityManager, organizationId: string, id: string): Promise<Invitation | null> {
    return tx.findOneBy(Invitation, { id, organizationId, acceptedAt: IsNull() });
  },

  /** The pending invitations `inviterId` sent in the organization. */
  pendingBy(tx: EntityManager, organizationId: string, inviterId: string): Promise<Invitation[]> {
    return tx.findBy(Invitation, { organizationId, invitedById: inviterId, acceptedAt: IsNull() });
  },

  async deleteIds(tx: EntityManager, ids: string[]): Promise<void> {
    if (ids.length) await tx.query('DELETE FROM platform.invitations WHERE id = ANY($1::uuid[])', [ids]);
  },

  /** The caller's role, read under the organization's lock; null for none. */
  async callerRole(tx: EntityManager, organizationId: string, userId: string): Promise<OrganizationRole | null> {
    return (await tx.findOneBy(UserRole, { organizationId, userId }))?.role ?? null;
  },

  /** A fresh token (the old one stops working), expiry and inviter. */
  async renew(
    tx: EntityManager,
    id: string,
    values: Pick<Invitation, 'tokenHash' | 'expiresAt' | 'invitedById'>,
  ): Promise<void> {
    await tx.update(Invitation, { id }, values);
  },
};
