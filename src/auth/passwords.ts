import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. */
const PARAMETERS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * Hashes run at most one per core: more at once finish no sooner (each is pure CPU), but each
 * holds its 19 MiB, and the thread pool they would fill is also the one DNS and files use.
 */
const MAX_CONCURRENT_HASHES = Math.max(1, availableParallelism());
let running = 0;
const waiting: (() => void)[] = [];

async function oneAtATimePerCore<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_HASHES) await new Promise<void>((resolve) => waiting.push(resolve));
  else running += 1;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

export function hashPassword(password: string): Promise<string> {
  return oneAtATimePerCore(() => argon2.hash(password, PARAMETERS));
}

/**
 * bcrypt hashes adopted from a legacy database (`npm run db:adopt`): `$2a$`, `$2b$` and `$2y$`, which
 * bcryptjs verifies alike. They are replaced by argon2id at the user's first successful log-in.
 */
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    if (BCRYPT.test(hash)) return await oneAtATimePerCore(() => bcrypt.compare(password, hash));
    return await oneAtATimePerCore(() => argon2.verify(hash, password));
  } catch {
    return false;
  }
}

/** True for any hash that is not argon2id with today's parameters, bcrypt included. */
export function needsRehash(hash: string): boolean {
  if (!hash.startsWith('$argon2')) return true;
  return argon2.needsRehash(hash, PARAMETERS);
}

/**
 * A real hash of a random password, verified against when the e-mail is unknown, so that
 * an unknown e-mail costs the same time as a wrong password.
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(`decoy-${Math.random()}-${Date.now()}`);
  return decoy;
}
