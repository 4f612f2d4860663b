import { createHash } from 'node:crypto';
import autocannon from 'autocannon';
import { cpuSnapshot, foreignShare } from './machine-load';
import { sampleMemory } from './processes';
import type { Operation } from './workloads';

export interface LoadOptions {
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  headers: Record<string, string>;
  operation: Operation;
  seconds: number;
  connections: number;
  /** The server process whose RSS is sampled while the load runs. */
  pid: number;
  /** Where the rotating variables start (the n of the first request). */
  firstRequest?: number;
}

export interface LoadRun {
  seconds: number;
  /** Responses with status 200 and no `errors`. */
  ok: number;
  /** Responses with another status or with `errors`, and connection errors and timeouts. */
  failed: number;
  rateLimited: number;
  firstFailure: string | null;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Sum of x-sql-statements over the responses that carried it, divided by their number. */
  sqlPerRequest: number | null;
  maxRssMb: number;
  /** Completed responses in each second of the run. */
  perSecond: number[];
  rssSamples: { atMs: number; rssMb: number }[];
  /** Every response time of the run, in ms, sorted. */
  latencies: number[];
  /** The share of the machine's CPU that processes outside the benchmark used during the run. */
  otherCpuShare: number;
  /** Which attempt this was (see BENCH_NOISY_RETRIES). */
  attempts: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

function header(headers: Record<string, string | string[]>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/**
 * One bounded autocannon run from this process: `connections` keep-alive connections, each
 * sending the next request as soon as the previous answer is in, for `seconds`. Latency is
 * autocannon's per-response time (from the request written to the response parsed), kept
 * unrounded here so that p50/p99 have sub-millisecond resolution.
 */
/** The request's document: its text, or the hash of a trusted document as Apollo's clients send it. */
function documentOf(operation: LoadOptions['operation']): Record<string, unknown> {
  if (!operation.byHash) return { query: operation.query };
  const sha256Hash = createHash('sha256').update(operation.query).digest('hex');
  return { extensions: { persistedQuery: { version: 1, sha256Hash } } };
}

export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  let n = options.firstRequest ?? 0;
  const document = documentOf(options.operation);
  let ok = 0;
  let failed = 0;
  let rateLimited = 0;
  let statements = 0;
  let counted = 0;
  let firstFailure: string | null = null;
  const latencies: number[] = [];
  const perSecond: number[] = [];
  const memory = sampleMemory(options.pid, 250);
  const cpuBefore = cpuSnapshot();
  const started = performance.now();

  const result = await new Promise<autocannon.AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...options.headers },
            setupRequest: (request) => {
              request.body = JSON.stringify({ ...document, variables: options.operation.variables(n) });
              n += 1;
              return request;
            },
            onResponse: (status, body, _context, headers) => {
              const sql = header(headers, 'x-sql-statements');
              if (sql !== undefined) {
                statements += Number(sql);
                counted += 1;
              }
              if (status === 200 && !body.includes('"errors"')) {
                ok += 1;
                return;
              }
              failed += 1;
              if (body.includes('RATE_LIMITED')) rateLimited += 1;
              firstFailure ??= `${status} ${body.slice(0, 300)}`;
            },
          },
        ],
      },
      (error, value) => (error ? reject(error) : resolve(value)),
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
      const second = Math.floor((performance.now() - started) / 1000);
      perSecond[second] = (perSecond[second] ?? 0) + 1;
    });
  });
  const seconds = (performance.now() - started) / 1000;
  const otherCpuShare = foreignShare(cpuBefore, cpuSnapshot());
  const rss = memory.stop();
  latencies.sort((a, b) => a - b);
  failed += result.errors + result.timeouts;
  return {
    seconds,
    ok,
    failed,
    rateLimited,
    firstFailure,
    requestsPerSecond: ok / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    sqlPerRequest: counted ? statements / counted : null,
    maxRssMb: rss.maxMb,
    perSecond: Array.from(perSecond, (value) => value ?? 0),
    rssSamples: rss.samples,
    latencies,
    otherCpuShare,
    attempts: 1,
  };
}
