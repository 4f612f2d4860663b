import type { LoadRun } from './load';

export interface SoakWindow {
  /** Seconds from the start of the soak. */
  from: number;
  to: number;
  rssMinMb: number;
  rssMeanMb: number;
  rssMaxMb: number;
  requestsPerSecond: number;
}

/** What the growth target compares: the first and the last of two spans of the soak. */
export interface SoakComparison {
  /** `cycles`: peaks before the first and the last full collection, floors after them; `halves`: the two halves. */
  basis: 'cycles' | 'halves';
  first: { peakMb: number; floorMb: number };
  last: { peakMb: number; floorMb: number };
}

export interface SoakResult {
  seconds: number;
  workload: string;
  /** Consecutive 10 s windows; the first and the last are the issue's. */
  windows: SoakWindow[];
  /** Seconds into the soak at which RSS fell by more than DROP_SHARE within a second: V8 giving pages back after a full collection. */
  drops: number[];
  comparison: SoakComparison;
  failed: number;
  otherCpuShare: number;
}

/** A fall of RSS this large within a second is counted as pages given back after a full collection. */
export const DROP_SHARE = 0.02;
/** Falls closer than this to the previous one belong to it (a fall can take a few samples). */
const CYCLE_MIN_MS = 10_000;
/** The target: neither the peak nor the floor later in the soak above the earlier one by more than this. */
export const GROWTH_ALLOWED = 0.05;

type Sample = LoadRun['rssSamples'][number];

/** RSS of the samples taken in [fromMs, toMs). */
function rssBetween(samples: Sample[], fromMs: number, toMs: number): number[] {
  return samples.filter((s) => s.atMs >= fromMs && s.atMs < toMs).map((s) => s.rssMb);
}

function windowOf(run: LoadRun, from: number, to: number): SoakWindow {
  const rss = rssBetween(run.rssSamples, from * 1000, to * 1000);
  const seconds = run.perSecond.slice(from, to);
  return {
    from,
    to,
    rssMinMb: Math.min(...rss),
    rssMeanMb: rss.reduce((sum, mb) => sum + mb, 0) / rss.length,
    rssMaxMb: Math.max(...rss),
    requestsPerSecond: seconds.reduce((sum, n) => sum + n, 0) / seconds.length,
  };
}

/** The times (ms) of the samples at which RSS is DROP_SHARE below its high of the second before; one per fall. */
function dropsOf(samples: Sample[]): number[] {
  const drops: number[] = [];
  for (const sample of samples) {
    const before = samples.filter((s) => s.atMs < sample.atMs && s.atMs >= sample.atMs - 1000);
    if (before.length === 0) continue;
    const high = Math.max(...before.map((s) => s.rssMb));
    const previous = drops.at(-1);
    if (high - sample.rssMb > high * DROP_SHARE && (previous === undefined || sample.atMs - previous >= CYCLE_MIN_MS)) {
      drops.push(sample.atMs);
    }
  }
  return drops;
}

/** Peak and floor of the samples in [fromMs, toMs); NaN for a span without samples, which the target counts as not met. */
function span(samples: Sample[], fromMs: number, toMs: number): { peakMb: number; floorMb: number } {
  const rss = rssBetween(samples, fromMs, toMs);
  return rss.length ? { peakMb: Math.max(...rss), floorMb: Math.min(...rss) } : { peakMb: NaN, floorMb: NaN };
}

/**
 * Under a steady load the old generation grows until a full collection, and RSS follows in a
 * sawtooth (measured here: falls of 1 to 15 MB, every 40 to 50 s). Two 10 s windows compare points on that sawtooth,
 * not the trend: the last one may hold a peak and the first a trough. So the target compares
 * like with like: the peak before the first full collection of the soak with the peak before
 * the last, and the floor after the first with the floor after the last. With fewer than two
 * falls seen (a collection that gives back under DROP_SHARE is not seen), it compares the two
 * halves by peak and floor. The 10 s windows are all reported, the first
 * and the last as the issue asks.
 */
function compare(samples: Sample[], drops: number[], endMs: number): SoakComparison {
  if (drops.length >= 2) {
    const [first, second] = drops;
    const [beforeLast, last] = [drops.at(-2) as number, drops.at(-1) as number];
    const earlier = { peakMb: span(samples, 0, first).peakMb, floorMb: span(samples, first, second).floorMb };
    const later = { peakMb: span(samples, beforeLast, last).peakMb, floorMb: span(samples, last, Infinity).floorMb };
    return { basis: 'cycles', first: earlier, last: later };
  }
  const middle = Math.floor(endMs / 2000) * 1000;
  return { basis: 'halves', first: span(samples, 0, middle), last: span(samples, middle, Infinity) };
}

export function summarizeSoak(run: LoadRun, workload: string, seconds: number): SoakResult {
  const end = Math.floor(run.seconds);
  const windows: SoakWindow[] = [];
  for (let from = 0; from + 10 <= end; from += 10) windows.push(windowOf(run, from, from + 10));
  // The last window is the last 10 s, even when the soak is not a multiple of 10 s.
  if (end > 10 && end % 10 !== 0) windows.push(windowOf(run, end - 10, end));
  const drops = dropsOf(run.rssSamples);
  return {
    seconds,
    workload,
    windows,
    drops: drops.map((ms) => ms / 1000),
    comparison: compare(run.rssSamples, drops, end * 1000),
    failed: run.failed,
    otherCpuShare: run.otherCpuShare,
  };
}

export function soakGrowth(soak: SoakResult): { peak: number; floor: number; met: boolean } {
  const { first, last } = soak.comparison;
  const peak = last.peakMb / first.peakMb - 1;
  const floor = last.floorMb / first.floorMb - 1;
  // NaN (a span without samples: a soak too short to compare) is not met.
  return { peak, floor, met: peak <= GROWTH_ALLOWED && floor <= GROWTH_ALLOWED };
}
