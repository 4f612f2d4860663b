import type { EntityManager } from 'typeorm';

/**
 * Serializes the changes of one organization (members, projects, billing), so that rules over
 * several rows ("keep one owner", plan limits) hold under concurrency. Every transaction that
 * takes it takes it first, before any other row lock, so two of them cannot deadlock on it.
 */
export async function lockOrganization(tx: EntityManager, organizationId: string): Promise<void> {
  await tx.query('SELECT id FROM organizations WHERE id = $1 FOR UPDATE', [organizationId]);
}
