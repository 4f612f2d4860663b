import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadRun } from '../../bench/load';
import { soakGrowth, summariseSoak } from '../../bench/soak';

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
    const soak = summariseSoak(sawtooth(200, 40), 'dashboard', 120);
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
    assert.equal(soakGrowth(summariseSoak(sawtooth(200, 40, 0.1), 'dashboard', 120)).met, true);
    const growing = soakGrowth(summariseSoak(sawtooth(200, 40, 0.3), 'dashboard', 120));
    assert.equal(growing.met, false);
    assert.ok(growing.floor > 0.05);
  });

  it('with fewer than two collections, the halves are compared', () => {
    const climbing = summariseSoak(sawtooth(200, 1000, 0.1), 'dashboard', 120);
    assert.deepEqual(climbing.drops, []);
    assert.equal(climbing.comparison.basis, 'halves');
    assert.equal(climbing.comparison.first.floorMb, 200);
    assert.equal(soakGrowth(climbing).met, false);
  });
});
