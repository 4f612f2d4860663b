import { availableParallelism } from 'node:os';

/**
 * libuv's thread pool, where argon2 hashes run, sized to the cores unless the operator set
 * UV_THREADPOOL_SIZE: more threads than cores hash no faster, and every thread that has hashed
 * keeps its 19 MiB malloc arena (four threads on a two-core machine cost some 40 MB of resident
 * memory for nothing). libuv sizes the pool on its first use, so this module is imported first.
 */
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, availableParallelism()));
