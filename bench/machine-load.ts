import { readdirSync, readFileSync } from 'node:fs';
import { sleep } from './processes';

/**
 * How busy the machine is with work that is not the benchmark's. The machine may be shared
 * (other test suites, builds): CPU time taken by processes outside this process tree during a
 * run lowers both servers' figures, so each run records it, and a run waits (boundedly) for a
 * quiet moment before it starts.
 */
export interface CpuSnapshot {
  /** All CPUs' ticks since boot: busy and total (busy + idle + iowait). */
  busy: number;
  total: number;
  /**
   * Ticks of this process and its descendants (servers, PostgreSQL, autocannon in this process),
   * with those of the children they have waited for (cutime, cstime).
   */
  tree: number;
}

function systemTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values;
  const busy = user + nice + system + irq + softirq + (steal ?? 0);
  return { busy, total: busy + idle + iowait };
}

function processTicks(): Map<number, { parent: number; ticks: number }> {
  const processes = new Map<number, { parent: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime, and cutime and cstime: the time of children that exited and were waited
      // for. A PostgreSQL backend that exits mid-run (a pool closing an idle connection) takes its
      // time out of the tree, and the postmaster's cutime takes it in; without cutime, the time
      // the backend had spent serving the previous run would count as another process's.
      const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
      processes.set(Number(entry), { parent: Number(fields[1]), ticks: utime + stime + cutime + cstime });
    } catch {
      // It exited while we looked.
    }
  }
  return processes;
}

export function cpuSnapshot(root = process.pid): CpuSnapshot {
  const processes = processTicks();
  const children = new Map<number, number[]>();
  for (const [pid, { parent }] of processes) children.set(parent, [...(children.get(parent) ?? []), pid]);
  let tree = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    tree += processes.get(pid)?.ticks ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return { ...systemTicks(), tree };
}

/**
 * The share of the machine's CPU (all cores) used between two snapshots by processes outside
 * the benchmark. A process of the tree that exited in between is counted through its parent's
 * cutime and cstime, once the parent has waited for it (Node does for the children it spawns,
 * the postmaster for its backends).
 */
export function foreignShare(before: CpuSnapshot, after: CpuSnapshot): number {
  const total = after.total - before.total;
  if (total <= 0) return 0;
  const foreign = after.busy - before.busy - (after.tree - before.tree);
  return Math.max(0, foreign / total);
}

/** Waits, at most `maxSeconds`, for one second in which other processes use less than `threshold` of the CPU. */
export async function waitForQuiet(maxSeconds: number, threshold: number): Promise<{ waitedS: number; share: number }> {
  const started = Date.now();
  let share = 0;
  for (let second = 0; second <= maxSeconds; second += 1) {
    const before = cpuSnapshot();
    await sleep(1000);
    share = foreignShare(before, cpuSnapshot());
    if (share < threshold) break;
  }
  return { waitedS: (Date.now() - started) / 1000, share };
}
