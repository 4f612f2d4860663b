import { setFlagsFromString } from 'node:v8';

/** Sets a V8 flag at start, unless the command line gave it (in either form). */
function unlessGiven(flag: string, setting: string): void {
  const given = process.execArgv.some((arg) => arg.startsWith(`--${flag}`) || arg.startsWith(`--no-${flag}`));
  if (!given) setFlagsFromString(setting);
}

/**
 * How far V8 lets the old generation grow past what survived the last full collection before
 * it collects again. V8's own choice (up to 4x when collections are cheap) lets the old space
 * grow far past the live set under load: requests in flight survive the young collections and
 * are promoted, and are garbage a moment later. At 2x the peak resident memory falls, for a few
 * more full collections that run mostly on V8's helper threads (docs/performance.md). V8 reads
 * the flag at each collection, so it applies when set here.
 */
unlessGiven('heap-growing-percent', '--heap-growing-percent=100');

/**
 * V8 allocates straight in the old generation what an allocation site made that mostly survived
 * young collections. Under load the sites of a request's rows and pages qualify (a request in
 * flight outlives a young collection), and then every request's rows live in the old generation:
 * garbage when the request ends, but freed only by a full collection, and holding alive through
 * every young collection the young objects they point to. Turned off, a request leaves a third
 * as much to the old generation (docs/performance.md).
 */
unlessGiven('allocation-site-pretenuring', '--no-allocation-site-pretenuring');
