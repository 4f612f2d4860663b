import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived the last full collection before
 * it collects again. V8's own choice (up to 4x when collections are cheap) let a server holding
 * some 30 MB of live objects reach 140 MB of old space under the dashboard query: requests in
 * flight survive the young collections and are promoted, and are garbage a moment later. At 2x
 * the peak resident memory under that load falls by about 70 MB for a few more full
 * collections, which run mostly on V8's helper threads. V8 reads the flag at each collection,
 * so it applies when set here; a value given on the command line wins.
 */
const FLAG = '--heap-growing-percent';
if (!process.execArgv.some((arg) => arg.startsWith(FLAG))) setFlagsFromString(`${FLAG}=100`);
