import { IsNull, Not, type DataSource, type EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import { User, type PlatformRole } from '../entities/user.entity';
import { afterCursor, byKey, likeEscaped, matching } from './matching';
import type { PageWindow } from './organization-details';
import { USER } from './shapes';
import { parameters } from './visibility';

export const userRepository = {
  async byIds(db: DataSource, ids: readonly string[]): Promise<(User | null)[]> {
    const { params, add } = parameters();
    const rows = await leanQuery<Record<string, unknown>>(
      db,
      `SELECT ${USER.select('u')} FROM platform.users u WHERE ${matching('u.id', ids, add)}`,
      params,
    );
    return byKey(
      ids,
      rows.map((row) => USER.fromRow(row)),
      (user) => user.id,
    );
  },

  /** The one read of a password hash: for log-in. */
  withPasswordByEmail(db: DataSource, email: string): Promise<User | null> {
    return db
      .getRepository(User)
      .createQueryBuilder('user')
      .addSelect('user.hashedPassword')
      .where('user.email = :email', { email })
      .getOne();
  },

  async platformRoleOf(db: DataSource, id: string): Promise<PlatformRole | null> {
    const rows = await leanQuery<{ platform_role: PlatformRole | null }>(
      db,
      'SELECT platform_role FROM platform.users WHERE id = $1',
      [id],
    );
    return rows[0]?.platform_role ?? null;
  },

  async byEmail(db: EntityManager, email: string): Promise<User | null> {
    return db.findOneBy(User, { email });
  },

  /** Grants or revokes (null) a platform role; false when there is no such account. */
  async setPlatformRole(db: EntityManager, email: string, role: PlatformRole | null): Promise<boolean> {
    const result = await db.update(User, { email }, { platformRole: role });
    return (result.affected ?? 0) > 0;
  },

  /** The accounts holding a platform role, by e-mail. */
  platformUsers(db: EntityManager): Promise<User[]> {
    return db.find(User, { where: { platformRole: Not(IsNull()) }, order: { email: 'ASC' } });
  },

  /** A page of every account, oldest first, matching `search` in the e-mail or name, with the total. */
  async page(db: DataSource, search: string | null, window: PageWindow): Promise<{ rows: User[]; totalCount: number }> {
    const { params, add } = parameters([search ? `%${likeEscaped(search)}%` : null]);
    const rows = await leanQuery<Record<string, unknown>>(
      db,
      `SELECT * FROM (
         SELECT ${USER.select('u')}, count(*) OVER () AS total FROM platform.users u
         WHERE $1::text IS NULL OR u.email ILIKE $1 OR u.display_name ILIKE $1) page
       WHERE ${afterCursor('page', window.after, add)}
       ORDER BY page.created_at, page.id LIMIT ${add(window.limit + 1)}`,
      params,
    );
    return { rows: rows.map((row) => USER.fromRow(row)), totalCount: rows.length ? Number(rows[0].total) : 0 };
  },

  /** Deletes the account; memberships, grants and tokens go with it (ON DELETE CASCADE). False when absent. */
  async delete(tx: EntityManager, id: string): Promise<boolean> {
    const [rows] = await tx.query<[unknown[], number]>('DELETE FROM platform.users WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  },

  emailOf(tx: EntityManager, id: string): Promise<string | null> {
    return tx.findOneBy(User, { id }).then((user) => user?.email ?? null);
  },

  insert(
    tx: EntityManager,
    values: Pick<User, 'email' | 'displayName' | 'hashedPassword' | 'lastLoginAt'>,
  ): Promise<User> {
    return tx.save(tx.create(User, values));
  },

  async update(
    tx: EntityManager,
    id: string,
    changes: Partial<Pick<User, 'lastLoginAt' | 'hashedPassword' | 'emailVerified'>>,
  ): Promise<void> {
    await tx.update(User, { id }, changes);
  },

  byId(db: EntityManager, id: string): Promise<User | null> {
    return db.findOneBy(User, { id });
  },

  /** The user with their password hash: for a password change. */
  withPasswordById(db: EntityManager, id: string): Promise<User | null> {
    return db
      .getRepository(User)
      .createQueryBuilder('user')
      .addSelect('user.hashedPassword')
      .where('user.id = :id', { id })
      .getOne();
  },
};
