import type { EntityManager } from 'typeorm';

export interface QueueDepth {
  name: string;
  created: number;
  retry: number;
  active: number;
}

export interface FailedJob {
  id: string;
  name: string;
  data: unknown;
  output: string;
  completedOn: Date | null;
}

/** Reads of pg-boss's job table (schema pgboss), for the job commands: pg-boss offers no query for these. */
export const jobRecordRepository = {
  async depthByQueue(db: EntityManager): Promise<QueueDepth[]> {
    const rows = await db.query<{ name: string; created: string; retry: string; active: string }[]>(
      `SELECT q.name,
              count(*) FILTER (WHERE j.state = 'created') AS created,
              count(*) FILTER (WHERE j.state = 'retry') AS retry,
              count(*) FILTER (WHERE j.state = 'active') AS active
       FROM pgboss.queue q LEFT JOIN pgboss.job j ON j.name = q.name
       WHERE q.name NOT LIKE '\\_\\_%' GROUP BY q.name ORDER BY q.name`,
    );
    return rows.map((row) => ({
      name: row.name,
      created: Number(row.created),
      retry: Number(row.retry),
      active: Number(row.active),
    }));
  },

  /** Jobs created since `since` that have not ended (waiting, to retry, running). */
  async liveSince(db: EntityManager, since: Date): Promise<number> {
    const [row] = await db.query<{ count: string }[]>(
      `SELECT count(*) AS count FROM pgboss.job WHERE created_on >= $1 AND state < 'completed' AND name NOT LIKE '\\_\\_%'`,
      [since],
    );
    return Number(row.count);
  },

  async failedSince(db: EntityManager, since: Date): Promise<FailedJob[]> {
    const rows = await db.query<
      { id: string; name: string; data: unknown; output: unknown; completed_on: Date | null }[]
    >(
      `SELECT id, name, data, output, completed_on FROM pgboss.job
       WHERE state = 'failed' AND completed_on >= $1 ORDER BY completed_on DESC LIMIT 50`,
      [since],
    );
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      data: row.data,
      output: JSON.stringify(row.output),
      completedOn: row.completed_on,
    }));
  },
};
