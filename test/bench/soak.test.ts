import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadRun } from '../../bench/load';
import { soakGrowth, summarizeSoak } from '../../bench/soak';

/**
 * A 120 s run sampled every 250 ms whose RSS climbs from `floor` by 0.4 MB/s and falls back at
 * each full collection (every `cycle` seconds), the floor rising by `creep` MB per second.
 */
function sawtooth(floor: number, cycle: number, creep = 0): LoadRun {
  const rssSamples = [];
  for (let atMs = 0; atMs < 120_000; atMs += 250) {
    const seconds = atMs / 1000;
    rssSamples.push({ atMs, rssMb: floor + creep * seconds + 0.4 * (seconds % cycle) });
  }
  return {
    seconds: 120,
    perSecond: new Array<number>(120).fill(500),
    rssSamples,
    failed: 0,
    otherCpuShare: 0,
  } as LoadRun;
}

describe('bench soak: growth is read across full-collection cycles, not between two points of the sawtooth', () => {
  it('a steady sawtooth is no growth, though its last 10 s sit higher than its first', () => {
    // Collections at 40 and 80 s: the first 10 s hold a trough, the last 10 s the top of a ramp.
    const soak = summarizeSoak(sawtooth(200, 40), 'dashboard', 120);
    assert.equal(soak.windows.length, 12);
    assert.ok(soak.windows[11].rssMaxMb > soak.windows[0].rssMaxMb * 1.05);
    assert.deepEqual(soak.drops, [40, 80]);
    assert.equal(soak.comparison.basis, 'cycles');
    assert.deepEqual(soak.comparison.first, { peakMb: 200 + 0.4 * 39.75, floorMb: 200 });
    assert.deepEqual(soak.comparison.last, soak.comparison.first);
    assert.equal(soakGrowth(soak).met, true);
  });

  it('a floor that rises from one cycle to the next is growth', () => {
    // Between the collections at 40 and 80 s the floor rises 4 MB (2%) at 0.1 MB/s, 12 MB (6%) at 0.3.
    assert.equal(soakGrowth(summarizeSoak(sawtooth(200, 40, 0.1), 'dashboard', 120)).met, true);
    const growing = soakGrowth(summarizeSoak(sawtooth(200, 40, 0.3), 'dashboard', 120));
    assert.equal(growing.met, false);
    assert.ok(growing.floor > 0.05);
  });

  it('with fewer than two collections, the halves are compared', () => {
    const climbing = summarizeSoak(sawtooth(200, 1000, 0.1), 'dashboard', 120);
    assert.deepEqual(climbing.drops, []);
    assert.equal(climbing.comparison.basis, 'halves');
    assert.equal(climbing.comparison.first.floorMb, 200);
    assert.equal(soakGrowth(climbing).met, false);
  });

  it('one fall is no whole cycle: the halves are compared, by peak and by floor', () => {
    const soak = summarizeSoak(sawtooth(200, 70), 'dashboard', 120);
    assert.deepEqual(soak.drops, [70]);
    assert.equal(soak.comparison.basis, 'halves');
    assert.deepEqual(soak.comparison.first, { peakMb: 200 + 0.4 * 59.75, floorMb: 200 });
  });

  it('a fall spread over several samples is one fall', () => {
    const run = sawtooth(200, 40);
    // Each fall after the start takes 5 s, at 5 MB/s: detected anew every second, it is still one fall.
    for (const sample of run.rssSamples) {
      const intoCycle = (sample.atMs / 1000) % 40;
      if (sample.atMs >= 40_000 && intoCycle < 5) sample.rssMb = 215.9 - 1.25 * (Math.floor(intoCycle * 4) + 1);
    }
    const soak = summarizeSoak(run, 'dashboard', 120);
    assert.deepEqual(soak.drops, [40.75, 80.75]);
    assert.equal(soakGrowth(soak).met, true);
  });

  it('a peak that rises while the floor holds is growth', () => {
    // Each cycle climbs further than the one before: 16, 32, then 48 MB.
    const run = sawtooth(200, 40);
    for (const sample of run.rssSamples) {
      const cycle = Math.floor(sample.atMs / 40_000);
      sample.rssMb = 200 + 0.4 * (cycle + 1) * ((sample.atMs / 1000) % 40);
    }
    const growth = soakGrowth(summarizeSoak(run, 'dashboard', 120));
    assert.ok(growth.floor === 0);
    assert.equal(growth.met, false);
  });

  it('a soak too short to compare is not met', () => {
    const run = sawtooth(200, 40);
    run.seconds = 1;
    run.rssSamples = run.rssSamples.filter((sample) => sample.atMs < 1000);
    assert.equal(soakGrowth(summarizeSoak(run, 'dashboard', 1)).met, false);
  });
});
