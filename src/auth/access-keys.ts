import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { BoundedMap } from '../bounded-map';
import { parseSecret, secretMatches, KeyKind } from '../crypto/access-key-secrets';
import { RevocationMemory } from '../database/notifications';
import { Authentication, PrincipalKind } from '../permissions';
import { ACCESS_KEY_CHANNEL, accessKeyRepository, type KeyRecord } from '../repositories/access-key.repository';
import type { AccessKeyMemory, Viewer } from '../request/context';

/** Keys remembered, at most: machines send the same key on every request. */
const KEYS_KEPT = 10_000;
/** A key's use is written at most this often. */
const USE_RECORDED_EVERY_MS = 60_000;

interface Known {
  record: KeyRecord;
  /** When its use was last written (or read as written). */
  lastUsedMs: number;
}

/**
 * Authenticates API keys and personal access tokens. A key's record is read once and remembered
 * in this process, while a connection LISTENs for revocations and deletions that any replica
 * commits: a revoked key is refused on the next request, everywhere, and a request with a known
 * key sends PostgreSQL nothing. Without the listening connection nothing is remembered (every
 * key request reads its record) until it is back. Expiry is a time, checked on every request.
 */
export class AccessKeyVerifier extends RevocationMemory implements AccessKeyMemory {
  private readonly known = new BoundedMap<string, Known>(KEYS_KEPT);
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly dataSource: DataSource,
    log: Logger,
  ) {
    super(ACCESS_KEY_CHANNEL, log);
  }

  /** The caller a key stands for, or null for an unknown, wrong, revoked or expired key. `db` is the request's. */
  async verify(token: string, db: DataSource): Promise<Viewer | null> {
    const parsed = parseSecret(token);
    if (!parsed) return null;
    const known = await this.lookUp(parsed.lookupId, db);
    if (!known || !secretMatches(token, known.record.secretHash)) return null;
    const { record } = known;
    if (record.revokedAt || (record.expiresAt && record.expiresAt.getTime() <= Date.now())) return null;
    this.recordUse(known);
    if (parsed.kind === KeyKind.API_KEY && record.serviceAccountId && record.organizationId) {
      return {
        principal: { kind: PrincipalKind.SERVICE_ACCOUNT, id: record.serviceAccountId },
        authentication: Authentication.API_KEY,
        organizationId: record.organizationId,
        accessKeyId: record.id,
        sessionId: null,
      };
    }
    if (parsed.kind === KeyKind.PERSONAL_ACCESS_TOKEN && record.userId) {
      return {
        principal: { kind: PrincipalKind.USER, id: record.userId },
        authentication: Authentication.PERSONAL_ACCESS_TOKEN,
        organizationId: null,
        accessKeyId: record.id,
        sessionId: null,
      };
    }
    return null;
  }

  /** Stops listening and waits for the writes of uses in flight. */
  override async close(): Promise<void> {
    await super.close();
    await Promise.all([...this.writes]);
  }

  private async lookUp(lookupId: string, db: DataSource): Promise<Known | null> {
    const remembered = this.listening ? this.known.get(lookupId) : undefined;
    if (remembered) return remembered;
    const epoch = this.epoch;
    const record = await accessKeyRepository.byLookupId(db, lookupId);
    if (!record) return null;
    const known = { record, lastUsedMs: record.lastUsedAt?.getTime() ?? 0 };
    if (this.listening && epoch === this.epoch) this.known.set(lookupId, known);
    return known;
  }

  /** Written by the pool outside the request (and its transaction), and never more than once a minute. */
  private recordUse(known: Known): void {
    const now = Date.now();
    if (now - known.lastUsedMs < USE_RECORDED_EVERY_MS) return;
    known.lastUsedMs = now;
    const write = accessKeyRepository
      .touch(this.dataSource, known.record.id)
      .catch((error: unknown) => this.log.warn({ err: error }, 'could not record an access key use'))
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  protected dropAll(): void {
    this.known.clear();
  }

  protected drop(what: string, id: string): void {
    if (what === 'key') {
      this.known.delete(id);
      return;
    }
    for (const [lookupId, { record }] of this.known) {
      const matches =
        what === 'principal'
          ? record.userId === id || record.serviceAccountId === id
          : what !== 'organization' || record.organizationId === id;
      if (matches) this.known.delete(lookupId);
    }
  }
}
