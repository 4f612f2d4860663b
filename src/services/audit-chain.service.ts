import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { runTransaction } from '../database/transaction';
import { auditRepository, type AuditEventRow } from '../repositories/audit.repository';

const SLICE = 1000;

/** What the verifier found wrong with a chain: the first event out of place, altered or missing. */
export interface ChainProblem {
  chainKey: string;
  seq: number;
  eventId: string | null;
  message: string;
}

export interface ChainReport {
  chainKey: string;
  events: number;
  /** The hash of the chain's last event: recorded outside the database, it anchors the whole chain. */
  head: string;
  problem: ChainProblem | null;
}

/** sha256(previous hash || canonical content), as the chain trigger computes it. */
export function eventHash(prevHash: string, content: string): string {
  return createHash('sha256')
    .update(prevHash + content, 'utf8')
    .digest('hex');
}

interface Walk {
  seq: number;
  hash: string;
  events: number;
}

/** The first thing wrong with one event, given where the chain stood before it. */
function checkEvent(chainKey: string, at: Walk, event: AuditEventRow & { content: string }): ChainProblem | null {
  const named = (message: string) => ({ chainKey, seq: event.seq, eventId: event.id, message });
  if (event.seq > at.seq + 1) {
    return named(
      `events ${at.seq + 1}..${event.seq - 1} are missing (deleted) before event ${event.id} (seq ${event.seq})`,
    );
  }
  if (event.seq <= at.seq) return named(`event ${event.id} (seq ${event.seq}) was inserted out of place`);
  if (event.prevHash !== at.hash) {
    return named(
      `event ${event.id} (seq ${event.seq}) does not follow the event before it: inserted out of place, or the one before was replaced`,
    );
  }
  if (eventHash(event.prevHash, event.content) !== event.hash) {
    return named(`event ${event.id} (seq ${event.seq}) was altered: its content does not match its hash`);
  }
  return null;
}

/** Walks one chain from its checkpoint to its head, in slices. */
async function verifyChain(
  db: EntityManager,
  chain: Awaited<ReturnType<typeof auditRepository.chains>>[number],
): Promise<ChainReport> {
  const at: Walk = { seq: chain.checkpointSeq, hash: chain.checkpointHash, events: 0 };
  const report = (problem: ChainProblem | null): ChainReport => ({
    chainKey: chain.chainKey,
    events: at.events,
    head: at.hash,
    problem,
  });
  for (;;) {
    const slice = await auditRepository.chainSlice(db, chain.chainKey, at.seq, SLICE);
    for (const event of slice) {
      const problem = checkEvent(chain.chainKey, at, event);
      if (problem) return report(problem);
      Object.assign(at, { seq: event.seq, hash: event.hash, events: at.events + 1 });
    }
    if (slice.length < SLICE) break;
  }
  if (at.seq !== chain.seq || at.hash !== chain.lastHash) {
    const message = `events ${at.seq + 1}..${chain.seq} at the end of the chain are missing (deleted)`;
    return report({ chainKey: chain.chainKey, seq: at.seq + 1, eventId: null, message });
  }
  return report(null);
}

/** Verifies every chain, or one organization's. */
export async function verifyAuditChains(db: EntityManager, organizationId: string | null): Promise<ChainReport[]> {
  const reports: ChainReport[] = [];
  for (const chain of await auditRepository.chains(db, organizationId)) reports.push(await verifyChain(db, chain));
  return reports;
}

/** An event as exported and as a webhook delivers it. */
export function eventDocument(event: AuditEventRow): Record<string, unknown> {
  return {
    id: event.id,
    action: event.action,
    occurredAt: event.occurredAt.toISOString(),
    organization: event.organizationId ? { id: event.organizationId, slug: event.organizationSlug } : null,
    actor: { type: event.actorType, id: event.actorId, label: event.actorLabel },
    target: { type: event.targetType, id: event.targetId, label: event.targetLabel },
    projectRef: event.projectRef,
    changes: event.changes,
  };
}

/** One organization's events in [since, until), oldest first, each passed to `write` with its place in the chain. */
export async function exportAuditEvents(
  db: EntityManager,
  organizationId: string,
  range: { since: Date | null; until: Date | null },
  write: (document: Record<string, unknown>) => void,
): Promise<number> {
  let afterSeq = 0;
  let count = 0;
  for (;;) {
    const slice = await auditRepository.exportSlice(db, organizationId, range, afterSeq, SLICE);
    for (const event of slice) {
      const { requestId, ipAddress, userAgent, seq, prevHash, hash } = event;
      write({ ...eventDocument(event), requestId, ipAddress, userAgent, seq, prevHash, hash });
      afterSeq = event.seq;
      count += 1;
    }
    if (slice.length < SLICE) return count;
  }
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * AUDIT_RETENTION_DAYS: removes the events older than that before `asOf`, each chain's prefix up
 * to its last such event, and stores that event's seq and hash as the chain's checkpoint, in one
 * transaction: the chain stays verifiable from there.
 */
export async function removeExpiredAuditEvents(db: DataSource, asOf: Date, retentionDays: number): Promise<number> {
  const before = new Date(asOf.getTime() - retentionDays * DAY_MS);
  const { removed, broken } = await runTransaction(db, async (tx) => {
    // A chain that does not verify keeps every event: the purge must not erase the evidence (an
    // event whose date was moved back would otherwise take the chain's history with it).
    const broken = (await verifyAuditChains(tx, null)).filter((report) => report.problem);
    const keys = broken.map((report) => report.chainKey);
    return { removed: await auditRepository.removeBefore(tx, before, keys), broken };
  });
  if (broken.length) {
    const named = broken.map((report) => report.problem?.message).join('; ');
    throw new Error(`audit chains that do not verify kept all their events (npm run audit:verify): ${named}`);
  }
  return removed;
}
