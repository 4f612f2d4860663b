import { hashPassword } from '../src/auth/passwords';

export interface HashCost {
  /** Median of `sequential` hashes, one at a time. */
  medianMs: number;
  sequential: number;
  /** Hashes per second with `concurrency` in flight: the ceiling of logIn on this machine. */
  perSecond: number;
  concurrency: number;
  /** libuv's thread pool, where argon2 runs. */
  threadPool: number;
}

/**
 * The cost of hashPassword (src/auth/passwords.ts) alone, in the process that calls it (run.ts
 * runs this file on the project's Node), with the servers idle. logIn verifies one hash per call, and a verify costs what a hash costs, so this bounds
 * the logins per second of any server on this machine.
 */
export async function measureHashCost(options: {
  sequential: number;
  concurrency: number;
  seconds: number;
}): Promise<HashCost> {
  await hashPassword('warm-up password');
  const times: number[] = [];
  for (let i = 0; i < options.sequential; i += 1) {
    const started = performance.now();
    await hashPassword(`sequential password ${i}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);

  let done = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, lane) => {
      while (performance.now() < deadline) {
        await hashPassword(`concurrent password ${lane} ${done}`);
        done += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    medianMs: times[Math.floor(times.length / 2)],
    sequential: options.sequential,
    perSecond: done / elapsed,
    concurrency: options.concurrency,
    threadPool: Number(process.env.UV_THREADPOOL_SIZE) || 4,
  };
}

/** Run on its own (`node dist/bench/hash-cost.js <sequential> <concurrency> <seconds>`): prints the cost as JSON. */
if (require.main === module) {
  const [sequential, concurrency, seconds] = process.argv.slice(2).map(Number);
  measureHashCost({ sequential, concurrency, seconds }).then(
    (cost) => console.log(JSON.stringify(cost)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
