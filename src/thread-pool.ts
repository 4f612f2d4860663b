import { availableParallelism } from 'node:os';

/**
 * libuv's thread pool, where argon2 hashes run, sized to one thread per core plus one unless
 * the operator set UV_THREADPOOL_SIZE. Hashes are held to one per core (src/auth/passwords.ts),
 * so the extra thread stays free for DNS lookups and files during a burst of log-ins. More
 * threads hash no faster, and every thread that has hashed keeps its 19 MiB malloc arena: four
 * threads on a two-core machine held some 40 MB of resident memory for nothing. libuv sizes the
 * pool on its first use, so this module is imported first.
 */
process.env.UV_THREADPOOL_SIZE ??= String(availableParallelism() + 1);
