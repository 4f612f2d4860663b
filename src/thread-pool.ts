import { availableParallelism } from 'node:os';

/**
 * libuv's thread pool, where argon2 hashes run, sized to one thread per core unless the
 * operator set UV_THREADPOOL_SIZE. Hashes are held to one per core (src/auth/passwords.ts), so
 * more threads hash no faster, and every thread that has hashed keeps its own malloc arena.
 * What else uses the pool here (a DNS lookup when the database pool opens a connection) may
 * wait behind a hash during a burst of log-ins. libuv sizes the pool on its first use, so this
 * module is imported first.
 */
process.env.UV_THREADPOOL_SIZE ??= String(availableParallelism());
