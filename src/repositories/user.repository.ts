import type { DataSource, EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import { User } from '../entities/user.entity';
import { byKey, matching } from './matching';
import { USER } from './shapes';
import { parameters } from './visibility';

export const userRepository = {
  async byIds(db: DataSource, ids: readonly string[]): Promise<(User | null)[]> {
    const { params, add } = parameters();
    const rows = await leanQuery<Record<string, unknown>>(
      db,
      `SELECT ${USER.select('u')} FROM users u WHERE ${matching('u.id', ids, add)}`,
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
    changes: Partial<Pick<User, 'lastLoginAt' | 'hashedPassword'>>,
  ): Promise<void> {
    await tx.update(User, { id }, changes);
  },
};
