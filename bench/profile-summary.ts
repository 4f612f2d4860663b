/**
 * Where a V8 CPU profile (`node --cpu-prof`, e.g. from `BENCH_CPU_PROF=dir npm run bench`) spent
 * its time: self time by package and by function, and inclusive time of chosen functions.
 *
 *   node dist/bench/profile-summary.js <file.cpuprofile> [top=25] [function names to total inclusively...]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** node_modules/<package>, src/…, or the runtime. */
function owner(url: string): string {
  if (!url) return '(runtime: gc, idle, program)';
  if (url.startsWith('node:')) return 'node: internals';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  const own = /\/dist\/(src|bench|ormconfig)[/.]([^/]+)?/.exec(url);
  if (own) return own[1] === 'src' ? `src/${own[2] ?? ''}` : own[1];
  return url;
}

function percent(part: number, whole: number): string {
  return `${((part / whole) * 100).toFixed(1).padStart(5)}%`;
}

function main(): void {
  const [file, topArg, ...inclusive] = process.argv.slice(2);
  if (!file) throw new Error('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top] [functions...]');
  const top = Number(topArg ?? 25) || 25;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((sum, t) => sum + t, 0);
  const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)');
  const idleTime = idle.reduce((sum, [, t]) => sum + t, 0);
  const busy = total - idleTime;

  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, time] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    const pkg = owner(frame.url);
    byOwner.set(pkg, (byOwner.get(pkg) ?? 0) + time);
    const name = `${frame.functionName || '(anonymous)'}  ${pkg}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + time);
  }

  console.log(`${file}\nwall ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (idle excluded below)\n`);
  console.log('self time by package');
  for (const [pkg, time] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${percent(time, busy)}  ${pkg}`);
  }
  console.log('\nself time by function');
  for (const [name, time] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${percent(time, busy)}  ${name}`);
  }

  if (inclusive.length) {
    console.log('\ninclusive time (a sample counts once even when the function recurses)');
    for (const wanted of inclusive) {
      let time = 0;
      for (const [id, t] of self) {
        for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
          if (byId.get(at)?.callFrame.functionName === wanted) {
            time += t;
            break;
          }
        }
      }
      console.log(`  ${percent(time, busy)}  ${wanted}`);
    }
  }
}

main();
