import { BadUserInputError } from '../errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Ids that are not uuids would reach PostgreSQL as a type error: refuse them as input. */
export function assertUuid(field: string, value: string): void {
  if (!isUuid(value)) throw BadUserInputError.field(field, `${field} must be an id returned by this API`);
}
