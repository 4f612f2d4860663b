import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { ProjectStatus } from '../entities/project.entity';

/**
 * Moves projects out of their transitional states (COMING_UP, RESTORING) once the
 * infrastructure is ready. This control plane provisions nothing itself, so the step is
 * immediate, but it runs after the request's commit, as a real provisioner would: clients
 * see COMING_UP first. Shutdown waits for steps in flight.
 */
export class Provisioner {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly db: DataSource,
    private readonly log: Logger,
  ) {}

  schedule(projectId: string, from: ProjectStatus, to: ProjectStatus): void {
    const step = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() =>
        this.db.query('UPDATE projects SET status = $1, updated_at = now() WHERE id = $2 AND status = $3', [
          to,
          projectId,
          from,
        ]),
      )
      .then(
        () => undefined,
        (error: unknown) => this.log.error({ err: error, projectId, from, to }, 'project transition failed'),
      );
    this.inFlight.add(step);
    void step.finally(() => this.inFlight.delete(step));
  }

  async drain(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
