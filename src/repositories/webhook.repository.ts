import type { DataSource, EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import type { PageWindow, Rows } from './organization-details';

export enum DeliveryStatus {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
}

/** A webhook; `secret` is sealed (src/crypto/secret-box.ts) and read only by the sender. */
export interface WebhookRow {
  id: string;
  organizationId: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  consecutiveFailures: number;
  disabledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeliveryRow {
  id: string;
  webhookId: string;
  eventId: string;
  action: string;
  status: DeliveryStatus;
  attempts: number;
  lastResponseStatus: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

type Row = Record<string, unknown>;

const WEBHOOK_COLUMNS = `w.id, w.organization_id, w.url, w.events, w.description, w.enabled, w.consecutive_failures,
  w.disabled_at, w.created_at, w.updated_at`;

const DELIVERY_COLUMNS = `d.id, d.webhook_id, d.event_id, d.action, d.status, d.attempts, d.last_response_status,
  d.last_error, d.next_attempt_at, d.delivered_at, d.created_at`;

function webhookOf(row: Row): WebhookRow {
  return {
    id: row.id as string,
    organizationId: row.organization_id as string,
    url: row.url as string,
    events: row.events as string[],
    description: row.description as string | null,
    enabled: row.enabled as boolean,
    consecutiveFailures: Number(row.consecutive_failures),
    disabledAt: row.disabled_at as Date | null,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  };
}

function deliveryOf(row: Row): DeliveryRow {
  return {
    id: row.id as string,
    webhookId: row.webhook_id as string,
    eventId: row.event_id as string,
    action: row.action as string,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    lastResponseStatus: row.last_response_status === null ? null : Number(row.last_response_status),
    lastError: row.last_error as string | null,
    nextAttemptAt: row.next_attempt_at as Date | null,
    deliveredAt: row.delivered_at as Date | null,
    createdAt: row.created_at as Date,
  };
}

/** What a delivery's sender needs of its webhook; the secret still sealed. */
export interface SenderWebhook {
  id: string;
  organizationId: string;
  url: string;
  enabled: boolean;
  secret: string;
}

export interface WebhookChanges {
  url?: string;
  events?: string[];
  description?: string | null;
  enabled?: boolean;
}

export const webhookRepository = {
  async insert(
    tx: EntityManager,
    values: { organizationId: string; url: string; events: string[]; description: string | null; secret: string },
  ): Promise<WebhookRow> {
    const rows = await tx.query<Row[]>(
      `INSERT INTO platform.webhooks AS w (organization_id, url, events, description, secret)
       VALUES ($1, $2, $3, $4, $5) RETURNING ${WEBHOOK_COLUMNS}`,
      [values.organizationId, values.url, values.events, values.description, values.secret],
    );
    return webhookOf(rows[0]);
  },

  /** The webhook locked for a change; null when it is gone. */
  /** How many webhooks the organization has (under its lock, for the limit). */
  async count(tx: EntityManager, organizationId: string): Promise<number> {
    const rows = await tx.query<{ count: string }[]>(
      'SELECT count(*) AS count FROM platform.webhooks WHERE organization_id = $1',
      [organizationId],
    );
    return Number(rows[0].count);
  },

  async forUpdate(tx: EntityManager, id: string): Promise<WebhookRow | null> {
    const rows = await tx.query<Row[]>(
      `SELECT ${WEBHOOK_COLUMNS} FROM platform.webhooks w WHERE w.id = $1 FOR UPDATE`,
      [id],
    );
    return rows.length ? webhookOf(rows[0]) : null;
  },

  /** Enabling again starts the count of failures afresh. */
  async update(tx: EntityManager, id: string, changes: WebhookChanges): Promise<WebhookRow> {
    // An UPDATE answers [rows, count] through TypeORM.
    const [rows] = await tx.query<[Row[], number]>(
      `UPDATE platform.webhooks w SET url = coalesce($2, url), events = coalesce($3, events),
         description = CASE WHEN $4::boolean THEN $5 ELSE description END,
         enabled = coalesce($6, enabled),
         consecutive_failures = CASE WHEN $6 THEN 0 ELSE consecutive_failures END,
         disabled_at = CASE WHEN $6 THEN NULL ELSE disabled_at END, updated_at = now()
       WHERE w.id = $1 RETURNING ${WEBHOOK_COLUMNS}`,
      [
        id,
        changes.url ?? null,
        changes.events ?? null,
        changes.description !== undefined,
        changes.description ?? null,
        changes.enabled ?? null,
      ],
    );
    return webhookOf(rows[0]);
  },

  async setSecret(tx: EntityManager, id: string, secret: string): Promise<void> {
    await tx.query('UPDATE platform.webhooks SET secret = $2, updated_at = now() WHERE id = $1', [id, secret]);
  },

  async delete(tx: EntityManager, id: string): Promise<void> {
    await tx.query('DELETE FROM platform.webhooks WHERE id = $1', [id]);
  },

  async ofOrganization(db: DataSource, organizationId: string, window: PageWindow): Promise<Rows<WebhookRow>> {
    const rows = await leanQuery<Row>(
      db,
      `SELECT * FROM (
         SELECT ${WEBHOOK_COLUMNS}, count(*) OVER () AS total FROM platform.webhooks w WHERE w.organization_id = $1) page
       WHERE $2::timestamptz IS NULL OR (page.created_at, page.id) > ($2::timestamptz, $3::uuid)
       ORDER BY page.created_at, page.id LIMIT $4`,
      [organizationId, window.after?.createdAt ?? null, window.after?.id ?? null, window.limit + 1],
    );
    return { rows: rows.map(webhookOf), totalCount: rows.length ? Number(rows[0].total) : 0 };
  },

  async deliveries(db: DataSource, webhookId: string, window: PageWindow): Promise<Rows<DeliveryRow>> {
    const rows = await leanQuery<Row>(
      db,
      `SELECT * FROM (
         SELECT ${DELIVERY_COLUMNS}, count(*) OVER () AS total FROM platform.webhook_deliveries d WHERE d.webhook_id = $1) page
       WHERE $2::timestamptz IS NULL OR (page.created_at, page.id) < ($2::timestamptz, $3::uuid)
       ORDER BY page.created_at DESC, page.id DESC LIMIT $4`,
      [webhookId, window.after?.createdAt ?? null, window.after?.id ?? null, window.limit + 1],
    );
    return { rows: rows.map(deliveryOf), totalCount: rows.length ? Number(rows[0].total) : 0 };
  },

  /** The organization a webhook, or a webhook's delivery, belongs to; null for none. */
  async organizationOf(db: DataSource, of: { webhookId: string } | { deliveryId: string }): Promise<string | null> {
    const rows = await leanQuery<{ organization_id: string }>(
      db,
      'webhookId' in of
        ? 'SELECT organization_id FROM platform.webhooks WHERE id = $1'
        : `SELECT w.organization_id FROM platform.webhook_deliveries d JOIN platform.webhooks w ON w.id = d.webhook_id
           WHERE d.id = $1`,
      ['webhookId' in of ? of.webhookId : of.deliveryId],
    );
    return rows[0]?.organization_id ?? null;
  },

  /** A delivery locked for a change, with what its sender needs of its webhook; null when it is gone. */
  async deliveryForUpdate(
    tx: EntityManager,
    id: string,
  ): Promise<{ delivery: DeliveryRow; webhook: SenderWebhook } | null> {
    const rows = await tx.query<Row[]>(
      `SELECT ${DELIVERY_COLUMNS}, w.organization_id AS w_organization_id, w.url AS w_url, w.enabled AS w_enabled,
              w.secret AS w_secret
       FROM platform.webhook_deliveries d JOIN platform.webhooks w ON w.id = d.webhook_id
       WHERE d.id = $1 FOR UPDATE OF d`,
      [id],
    );
    if (!rows.length) return null;
    const [row] = rows;
    const webhook = {
      id: row.webhook_id as string,
      organizationId: row.w_organization_id as string,
      url: row.w_url as string,
      enabled: row.w_enabled as boolean,
      secret: row.w_secret as string,
    };
    return { delivery: deliveryOf(row), webhook };
  },

  /** After an attempt: its outcome; delivered or failed for good ends the delivery, else its next attempt is due at `nextAttemptAt`. */
  async recordAttempt(
    tx: EntityManager,
    id: string,
    outcome: {
      status: DeliveryStatus;
      responseStatus: number | null;
      error: string | null;
      nextAttemptAt: Date | null;
    },
  ): Promise<void> {
    await tx.query(
      `UPDATE platform.webhook_deliveries SET attempts = attempts + 1, status = $2::varchar, last_response_status = $3,
         last_error = $4, next_attempt_at = $5, delivered_at = CASE WHEN $2::varchar = 'DELIVERED' THEN now() END, updated_at = now()
       WHERE id = $1`,
      [id, outcome.status, outcome.responseStatus, outcome.error?.slice(0, 500) ?? null, outcome.nextAttemptAt],
    );
  },

  /** Ends a pending delivery without an attempt. */
  async failPending(db: EntityManager, id: string, error: string): Promise<void> {
    await db.query(
      `UPDATE platform.webhook_deliveries SET status = 'FAILED', last_error = $2, next_attempt_at = NULL, updated_at = now()
       WHERE id = $1 AND status = 'PENDING'`,
      [id, error],
    );
  },

  /** Counts a failed delivery, or starts the count afresh after a delivered one; the count. */
  async countOutcome(tx: EntityManager, webhookId: string, delivered: boolean): Promise<number> {
    const [rows] = await tx.query<[{ consecutive_failures: number }[], number]>(
      `UPDATE platform.webhooks SET consecutive_failures = CASE WHEN $2 THEN 0 ELSE consecutive_failures + 1 END
       WHERE id = $1 RETURNING consecutive_failures`,
      [webhookId, delivered],
    );
    return rows.length ? Number(rows[0].consecutive_failures) : 0;
  },

  /** Disables an enabled webhook; false when it was not enabled. */
  async disable(tx: EntityManager, webhookId: string): Promise<boolean> {
    const [rows] = await tx.query<[unknown[], number]>(
      `UPDATE platform.webhooks SET enabled = false, disabled_at = now(), updated_at = now()
       WHERE id = $1 AND enabled RETURNING id`,
      [webhookId],
    );
    return rows.length > 0;
  },

  /** Back to pending, due now, for another round of attempts. */
  async redeliver(tx: EntityManager, id: string): Promise<DeliveryRow> {
    const [rows] = await tx.query<[Row[], number]>(
      `UPDATE platform.webhook_deliveries d SET status = 'PENDING', attempts = 0, next_attempt_at = now(), updated_at = now()
       WHERE d.id = $1 RETURNING ${DELIVERY_COLUMNS}`,
      [id],
    );
    return deliveryOf(rows[0]);
  },

  /** Pending deliveries due for more than `graceMs` without a live job (written by a job, or a crash after a commit). */
  async pendingWithoutJob(db: EntityManager, jobName: string, before: Date): Promise<string[]> {
    const rows = await db.query<{ id: string }[]>(
      `SELECT d.id FROM platform.webhook_deliveries d
       WHERE d.status = 'PENDING' AND d.next_attempt_at <= $2
         AND NOT EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = $1 AND j.singleton_key = d.id::text
                         AND j.state < 'completed')
       LIMIT 1000`,
      [jobName, before],
    );
    return rows.map((row) => row.id);
  },
};
