import type { DataSource, EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import type { AuditActorType, AuditChange } from '../audit/actions';
import type { PageWindow, Rows } from './organization-details';
import { parameters } from './visibility';

/** An audit event as written: who, what, where from, and the change. */
export interface AuditRecord {
  organizationId: string | null;
  accountId: string | null;
  actorType: AuditActorType;
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  targetLabel: string | null;
  projectRef: string | null;
  changes: AuditChange[];
  requestId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
}

/** An audit event as read, with its place in its chain. */
export interface AuditEventRow extends AuditRecord {
  id: string;
  occurredAt: Date;
  organizationSlug: string | null;
  chainKey: string;
  seq: number;
  prevHash: string;
  hash: string;
}

type Row = Record<string, unknown>;

const COLUMNS = [
  'organization_id',
  'account_id',
  'actor_type',
  'actor_id',
  'actor_label',
  'action',
  'target_type',
  'target_id',
  'target_label',
  'project_ref',
  'changes',
  'request_id',
  'ip_address',
  'user_agent',
] as const;

type Column = (typeof COLUMNS)[number];

const LIMITS: Partial<Record<Column, number>> = {
  actor_label: 320,
  target_label: 320,
  target_id: 100,
  user_agent: 512,
};

function cut(value: string | null, limit: number | undefined): string | null {
  return value !== null && limit !== undefined && value.length > limit ? value.slice(0, limit) : value;
}

function valuesOf(record: AuditRecord): Record<Column, unknown> {
  return {
    organization_id: record.organizationId,
    account_id: record.accountId,
    actor_type: record.actorType,
    actor_id: record.actorId,
    actor_label: record.actorLabel,
    action: record.action,
    target_type: record.targetType,
    target_id: record.targetId,
    target_label: record.targetLabel,
    project_ref: record.projectRef,
    changes: JSON.stringify(record.changes),
    request_id: record.requestId,
    ip_address: record.ipAddress,
    user_agent: record.userAgent,
  };
}

/**
 * The SELECT list of an audit event's INSERT: each column a parameter, or the SQL given in
 * `computed` (a statement that writes the event with its change, from the changed row). The
 * actor's label, when not given, is the user's e-mail or the service account's name, read by
 * the same statement.
 */
export function auditSelectList(
  record: AuditRecord,
  add: (value: unknown) => string,
  computed: Partial<Record<Column, string>> = {},
): string {
  const values = valuesOf(record);
  const expressions = COLUMNS.map((column) => {
    if (computed[column]) return computed[column];
    const value = values[column];
    const placeholder = add(typeof value === 'string' ? cut(value, LIMITS[column]) : value);
    if (column === 'changes') return `${placeholder}::jsonb`;
    if (column === 'organization_id' || column === 'account_id' || column === 'actor_id') return `${placeholder}::uuid`;
    return `${placeholder}::text`;
  });
  const at = (column: Column) => expressions[COLUMNS.indexOf(column)];
  expressions[COLUMNS.indexOf('actor_label')] = labelOf(at('actor_label'), at('actor_id'));
  if (!computed.target_label && ['user', 'service_account'].includes(record.targetType) && record.targetId) {
    expressions[COLUMNS.indexOf('target_label')] = labelOf(at('target_label'), `${at('target_id')}::uuid`);
  }
  return expressions.join(', ');
}

/** The label given, or the e-mail of the user, or the name of the service account, with id `id`. */
function labelOf(label: string, id: string): string {
  return `coalesce(${label}, (SELECT u.email FROM platform.users u WHERE u.id = ${id}),
    (SELECT s.name FROM platform.service_accounts s WHERE s.id = ${id}))`;
}

/** `INSERT INTO platform.audit_events (…)`: the chain trigger sets seq, prev_hash and hash. */
export const AUDIT_INSERT = `INSERT INTO platform.audit_events (${COLUMNS.join(', ')})`;

/**
 * The canonical content an event's hash covers: the chain trigger's expression
 * (platform.audit_event_content), rebuilt here so that a verifier does not trust the function it checks.
 */
export const AUDIT_CONTENT = `jsonb_build_object(
  'id', e.id, 'chain', e.chain_key, 'seq', e.seq,
  'occurredAt', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
  'organizationId', e.organization_id, 'accountId', e.account_id,
  'actor', jsonb_build_array(e.actor_type, e.actor_id, e.actor_label),
  'action', e.action, 'target', jsonb_build_array(e.target_type, e.target_id, e.target_label),
  'projectRef', e.project_ref, 'changes', e.changes,
  'requestId', e.request_id, 'ipAddress', e.ip_address, 'userAgent', e.user_agent)::text`;

const EVENT_SELECT = `e.id, e.occurred_at, e.organization_id, o.slug AS organization_slug, e.account_id, e.actor_type,
  e.actor_id, e.actor_label, e.action, e.target_type, e.target_id, e.target_label, e.project_ref, e.changes,
  e.request_id, e.ip_address, e.user_agent, e.chain_key, e.seq, e.prev_hash, e.hash`;

function fromRow(row: Row): AuditEventRow {
  return {
    id: row.id as string,
    occurredAt: row.occurred_at as Date,
    organizationId: row.organization_id as string | null,
    organizationSlug: row.organization_slug as string | null,
    accountId: row.account_id as string | null,
    actorType: row.actor_type as AuditActorType,
    actorId: row.actor_id as string | null,
    actorLabel: row.actor_label as string | null,
    action: row.action as string,
    targetType: row.target_type as string,
    targetId: row.target_id as string | null,
    targetLabel: row.target_label as string | null,
    projectRef: row.project_ref as string | null,
    changes: row.changes as AuditChange[],
    requestId: row.request_id as string | null,
    ipAddress: row.ip_address as string | null,
    userAgent: row.user_agent as string | null,
    chainKey: row.chain_key as string,
    seq: Number(row.seq),
    prevHash: row.prev_hash as string,
    hash: row.hash as string,
  };
}

/** Whose events a list shows: one organization's, one account's own, or every one (the operator). */
export type AuditScope = { organizationId: string } | { accountId: string } | { platform: true };

export interface AuditFilter {
  /** Action names, or prefixes ending in `.*`. */
  actions?: string[] | null;
  actorId?: string | null;
  projectRef?: string | null;
  since?: Date | null;
  until?: Date | null;
}

function scopeSql(scope: AuditScope, add: (value: unknown) => string): string {
  if ('organizationId' in scope) return `e.organization_id = ${add(scope.organizationId)}::uuid`;
  if ('accountId' in scope) return `e.account_id = ${add(scope.accountId)}::uuid`;
  return 'true';
}

function filterSql(filter: AuditFilter, add: (value: unknown) => string): string[] {
  const where: string[] = [];
  if (filter.actions?.length) {
    const exact = filter.actions.filter((action) => !action.endsWith('*'));
    const prefixes = filter.actions.filter((action) => action.endsWith('.*')).map((action) => action.slice(0, -1));
    if (filter.actions.includes('*')) where.push('true');
    else
      where.push(
        `(e.action = ANY(${add(exact)}::text[]) OR e.action LIKE ANY(${add(prefixes.map((p) => `${p.replace(/[\\%_]/g, '\\$&')}%`))}::text[]))`,
      );
  }
  if (filter.actorId) where.push(`e.actor_id = ${add(filter.actorId)}::uuid`);
  if (filter.projectRef) where.push(`e.project_ref = ${add(filter.projectRef)}::text`);
  if (filter.since) where.push(`e.occurred_at >= ${add(filter.since)}::timestamptz`);
  if (filter.until) where.push(`e.occurred_at < ${add(filter.until)}::timestamptz`);
  return where;
}

/**
 * The CTE that turns the events of CTE `recorded` (id, organization_id, action) into one delivery
 * per enabled webhook of their organization whose events name the action (exactly, by a prefix
 * such as `project.*`, or `*`): written by the statement that writes the event.
 */
export function deliveriesOf(recorded: string): string {
  return `delivered AS (
    INSERT INTO platform.webhook_deliveries (webhook_id, event_id, action)
    SELECT w.id, r.id, r.action FROM ${recorded} r
    JOIN platform.webhooks w ON w.organization_id = r.organization_id AND w.enabled
      AND EXISTS (SELECT 1 FROM unnest(w.events) p
                  WHERE p = '*' OR p = r.action OR (right(p, 2) = '.*' AND starts_with(r.action, left(p, -1))))
    RETURNING id
  )`;
}

/** The deliveries a statement with `deliveriesOf` wrote, as a column. */
export const DELIVERY_IDS = `coalesce((SELECT array_agg(id)::text[] FROM delivered), '{}') AS deliveries`;

export const auditRepository = {
  /**
   * Writes one event in `tx`, and its webhook deliveries, in one statement; the ids of the
   * deliveries. Its chain's head row is locked until `tx` ends.
   */
  async insert(tx: EntityManager, record: AuditRecord): Promise<string[]> {
    const { params, add } = parameters();
    const rows = await tx.query<{ deliveries: string[] }[]>(
      `WITH recorded AS (${AUDIT_INSERT} SELECT ${auditSelectList(record, add)} RETURNING id, organization_id, action),
       ${deliveriesOf('recorded')}
       SELECT ${DELIVERY_IDS}`,
      params,
    );
    return rows[0].deliveries;
  },

  /** A page of events, newest first, with the total that match. */
  async page(db: DataSource, scope: AuditScope, filter: AuditFilter, window: PageWindow): Promise<Rows<AuditEventRow>> {
    const { params, add } = parameters();
    const where = [scopeSql(scope, add), ...filterSql(filter, add)].join(' AND ');
    const afterAt = add(window.after?.createdAt ?? null);
    const afterId = add(window.after?.id ?? null);
    const rows = await leanQuery<Row>(
      db,
      `SELECT * FROM (
         SELECT ${EVENT_SELECT}, count(*) OVER () AS total
         FROM platform.audit_events e LEFT JOIN platform.organizations o ON o.id = e.organization_id
         WHERE ${where}) page
       WHERE ${afterAt}::timestamptz IS NULL OR (page.occurred_at, page.id) < (${afterAt}::timestamptz, ${afterId}::uuid)
       ORDER BY page.occurred_at DESC, page.id DESC LIMIT ${add(window.limit + 1)}`,
      params,
    );
    return { rows: rows.map(fromRow), totalCount: rows.length ? Number(rows[0].total) : 0 };
  },

  async byId(db: EntityManager, id: string): Promise<AuditEventRow | null> {
    const rows = await db.query<Row[]>(
      `SELECT ${EVENT_SELECT} FROM platform.audit_events e LEFT JOIN platform.organizations o ON o.id = e.organization_id
       WHERE e.id = $1`,
      [id],
    );
    return rows.length ? fromRow(rows[0]) : null;
  },

  /** The chains to verify: every one, or one organization's. */
  async chains(
    db: EntityManager,
    organizationId: string | null,
  ): Promise<{ chainKey: string; seq: number; lastHash: string; checkpointSeq: number; checkpointHash: string }[]> {
    const rows = await db.query<Row[]>(
      `SELECT chain_key, seq, last_hash, checkpoint_seq, checkpoint_hash FROM platform.audit_chains
       WHERE $1::text IS NULL OR chain_key = $1::text ORDER BY chain_key`,
      [organizationId],
    );
    return rows.map((row) => ({
      chainKey: row.chain_key as string,
      seq: Number(row.seq),
      lastHash: row.last_hash as string,
      checkpointSeq: Number(row.checkpoint_seq),
      checkpointHash: row.checkpoint_hash as string,
    }));
  },

  /** A chain's events after `afterSeq`, in order, each with its canonical content rebuilt. */
  async chainSlice(
    db: EntityManager,
    chainKey: string,
    afterSeq: number,
    limit: number,
  ): Promise<(AuditEventRow & { content: string })[]> {
    const rows = await db.query<Row[]>(
      `SELECT ${EVENT_SELECT}, ${AUDIT_CONTENT} AS content
       FROM platform.audit_events e LEFT JOIN platform.organizations o ON o.id = e.organization_id
       WHERE e.chain_key = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3`,
      [chainKey, afterSeq, limit],
    );
    return rows.map((row) => ({ ...fromRow(row), content: row.content as string }));
  },

  /** One organization's events in [since, until), oldest first, `limit` after `afterSeq`. */
  async exportSlice(
    db: EntityManager,
    organizationId: string,
    range: { since: Date | null; until: Date | null },
    afterSeq: number,
    limit: number,
  ): Promise<AuditEventRow[]> {
    const rows = await db.query<Row[]>(
      `SELECT ${EVENT_SELECT} FROM platform.audit_events e LEFT JOIN platform.organizations o ON o.id = e.organization_id
       WHERE e.organization_id = $1 AND e.seq > $2
         AND ($3::timestamptz IS NULL OR e.occurred_at >= $3) AND ($4::timestamptz IS NULL OR e.occurred_at < $4)
       ORDER BY e.seq LIMIT $5`,
      [organizationId, afterSeq, range.since, range.until, limit],
    );
    return rows.map(fromRow);
  },

  /**
   * Removes, per chain, every event up to the last one older than `before`, and stores the last
   * removed event's seq and hash as the chain's checkpoint, in one statement: the chain stays
   * verifiable from there. `keepChains` are left whole. The number of events removed.
   */
  async removeBefore(db: EntityManager, before: Date, keepChains: readonly string[]): Promise<number> {
    const rows = await db.query<{ removed: string }[]>(
      `WITH cut AS (
         SELECT chain_key, max(seq) AS seq FROM platform.audit_events
         WHERE occurred_at < $1 AND chain_key <> ALL($2::text[]) GROUP BY chain_key
       ), removed AS (
         DELETE FROM platform.audit_events e USING cut WHERE e.chain_key = cut.chain_key AND e.seq <= cut.seq
         RETURNING e.chain_key, e.seq, e.hash
       ), last AS (
         SELECT DISTINCT ON (chain_key) chain_key, seq, hash FROM removed ORDER BY chain_key, seq DESC
       ), checkpoint AS (
         UPDATE platform.audit_chains c SET checkpoint_seq = last.seq, checkpoint_hash = last.hash, checkpoint_at = now()
         FROM last WHERE c.chain_key = last.chain_key RETURNING c.chain_key
       )
       SELECT (SELECT count(*) FROM removed) AS removed, (SELECT count(*) FROM checkpoint) AS chains`,
      [before, keepChains],
    );
    return Number(rows[0].removed);
  },
};
