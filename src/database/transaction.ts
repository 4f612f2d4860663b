import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import { BadUserInputError, ConflictError, NotFoundError } from '../errors';

/** What a violated constraint means to the client: the one table from constraint to error. */
const CONSTRAINT_ERRORS: Record<string, () => Error> = {
  UQ_organizations_slug: () => new ConflictError('That organization slug is already taken', 'slug'),
  UQ_users_email: () => new ConflictError('An account with this e-mail address already exists', 'email'),
  UQ_user_roles_user_id_organization_id: () => new ConflictError('This user is already a member', 'userId'),
  UQ_permissions_user_id_project_id: () => new ConflictError('This user already has access to the project', 'userId'),
  UQ_invitations_pending_per_email: () =>
    new ConflictError('An invitation for this e-mail address is already pending', 'email'),
  // Billing writes run under the organization's lock, so these only answer a race that slipped past it.
  UQ_subscriptions_current_per_organization: () =>
    new ConflictError('The organization already has a current subscription: try again'),
  UQ_payment_methods_default_per_organization: () =>
    new ConflictError('The organization already has a default payment method: try again'),
  UQ_payment_methods_provider_provider_ref: () => new ConflictError('This card is already attached', 'token'),
  UQ_invoices_organization_id_number: () => new ConflictError('That invoice number is taken: try again'),
  UQ_invoices_subscription_id_period_start: () => new ConflictError('This billing period already has an invoice'),
  FK_permissions_user_id: () => new NotFoundError('User'),
  FK_user_roles_user_id: () => new NotFoundError('User'),
};

interface PgError {
  code?: string;
  constraint?: string;
}

/** Maps a PostgreSQL constraint violation to a typed client error; anything else is rethrown. */
export function translateDatabaseError(error: unknown): unknown {
  if (!(error instanceof QueryFailedError)) return error;
  const { code, constraint } = error.driverError as PgError;
  const known = constraint ? CONSTRAINT_ERRORS[constraint] : undefined;
  if (known) return known();
  if (code === '23505') return new ConflictError('This conflicts with an existing record');
  if (code === '23514' || code === '22001') return new BadUserInputError('A value is out of the allowed range');
  return error;
}

/** Runs a unit of work in one transaction: everything or nothing; violations become typed errors. */
export async function runTransaction<T>(db: DataSource, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(work);
  } catch (error) {
    throw translateDatabaseError(error);
  }
}
