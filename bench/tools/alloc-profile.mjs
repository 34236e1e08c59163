/**
 * Where a running Node process allocates, garbage included: loaded with `--import`, it
 * starts V8's sampling heap profiler after ALLOC_PROFILE_DELAY_S (default 20) seconds with
 * objects collected by minor and major GCs kept in the profile (a plain `--heap-prof`
 * keeps only what is still alive at the end, which misses the short-lived garbage that
 * drives the young-generation GCs), and writes it after ALLOC_PROFILE_SECONDS (default 30)
 * to ALLOC_PROFILE_DIR (default the temp directory) as alloc-<pid>.json. Read it with
 * bench/tools/alloc-top.mjs. Its records slow a flood's loop and hold memory of their own: the
 * RSS it shows there is not the daemon's (docs/benchmarks.md, "the RSS's floor").
 *
 *   SUP_NODE_ARGS="--max-semi-space-size=2 --import ./bench/tools/alloc-profile.mjs" npx tsx bench/footprint-vs-pm2.ts 55 --no-pm2 --no-flood --settle 10
 *   node bench/tools/alloc-top.mjs /tmp/alloc-<pid>.json
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import path from 'node:path';

const delayMs = Number(process.env.ALLOC_PROFILE_DELAY_S ?? 20) * 1000;
const forMs = Number(process.env.ALLOC_PROFILE_SECONDS ?? 30) * 1000;
const out = path.join(process.env.ALLOC_PROFILE_DIR ?? tmpdir(), `alloc-${process.pid}.json`);
const session = new Session();
session.connect();
const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));

setTimeout(async () => {
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  setTimeout(async () => {
    const { profile } = await post('HeapProfiler.stopSampling');
    writeFileSync(out, JSON.stringify(profile));
  }, forMs).unref();
}, delayMs).unref();
