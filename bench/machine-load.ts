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
  /** Ticks of this process and its descendants (servers, PostgreSQL, autocannon in this process). */
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
      processes.set(Number(entry), { parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
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

/** Clock ticks per second of /proc/stat and /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * The share of the machine's CPU (all cores) used between two snapshots by processes outside
 * the benchmark. A process of the tree that exited in between is gone from /proc: pass the CPU
 * time it reported (`exitedCpuMicros`), or it counts as foreign. The servers and PostgreSQL live
 * for the whole run.
 */
export function foreignShare(before: CpuSnapshot, after: CpuSnapshot, exitedCpuMicros = 0): number {
  const total = after.total - before.total;
  if (total <= 0) return 0;
  const exited = (exitedCpuMicros / 1e6) * TICKS_PER_SECOND;
  const foreign = after.busy - before.busy - (after.tree - before.tree) - exited;
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
