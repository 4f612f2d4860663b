import { BadUserInputError } from '../errors';
import { isUuid } from '../inputs/ids';
import type { PaymentMethodPosition } from '../repositories/billing-payment-method.repository';

/**
 * Cursors of the billing lists whose order is not (created_at, id): opaque to clients, base64url
 * of a tagged JSON array, so that a cursor of one list is refused by another.
 */
function encode(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function decode<T>(cursor: string, read: (values: unknown[]) => T | null): T {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = null;
  }
  const position = Array.isArray(values) ? read(values) : null;
  if (position === null) throw BadUserInputError.field('after', 'after is not a cursor returned by this API');
  return position;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Only what toISOString writes: anything else would reach PostgreSQL as a type or range error. */
function instant(value: unknown): Date | null {
  if (typeof value !== 'string' || !ISO_INSTANT.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) || date.toISOString() !== value ? null : date;
}

/** Issued invoices run newest first: the cursor is the last invoice number seen. */
export const invoiceCursor = {
  encode: (number: number): string => encode(['invoice', number]),
  decode: (cursor: string): number =>
    decode(cursor, ([kind, number]) =>
      kind === 'invoice' && typeof number === 'number' && Number.isSafeInteger(number) && number >= 1 ? number : null,
    ),
};

/** Payment methods run default first, then oldest first: the cursor is all three keys of that order. */
export const paymentMethodCursor = {
  encode: (method: PaymentMethodPosition): string =>
    encode(['payment-method', method.isDefault, method.createdAt.toISOString(), method.id]),
  decode: (cursor: string): PaymentMethodPosition =>
    decode(cursor, ([kind, isDefault, at, id]) => {
      const createdAt = instant(at);
      if (kind !== 'payment-method' || typeof isDefault !== 'boolean' || !createdAt) return null;
      return typeof id === 'string' && isUuid(id) ? { isDefault, createdAt, id } : null;
    }),
};
