/**
 * Billing periods are calendar months in UTC: every period ends at 00:00 UTC on the first of a
 * month. A new subscription's first period runs from its start to the next such boundary.
 */
export function periodEndAfter(start: Date): Date {
  return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
}

function abs(value: bigint): bigint {
  return value < 0n ? -value : value;
}

/**
 * `deltaCents × remaining / length` in integer minor units: exact integer arithmetic, rounded to
 * the nearest unit, halves away from zero (a charge of 0.5 cents is 1 cent, a credit of 0.5 cents
 * is 1 cent). `remainingMs` is clamped to the period: a change after the period's end (but
 * before it was closed) prorates nothing.
 */
export function prorate(deltaCents: number, remainingMs: number, lengthMs: number): number {
  if (!Number.isSafeInteger(deltaCents) || !Number.isSafeInteger(remainingMs) || !Number.isSafeInteger(lengthMs)) {
    throw new Error('prorate takes integers');
  }
  if (lengthMs <= 0) throw new Error('a period has a positive length');
  const remaining = BigInt(Math.min(Math.max(remainingMs, 0), lengthMs));
  const length = BigInt(lengthMs);
  const delta = BigInt(deltaCents);
  const magnitude = (abs(delta) * remaining * 2n + length) / (2n * length);
  return Number(delta < 0n ? -magnitude : magnitude);
}
