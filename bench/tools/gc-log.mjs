/**
 * Every GC of a running Node process, one line each: loaded with `--import`, it writes to
 * GC_LOG_DIR (default the temp directory)/gc-<pid>.log the seconds since start, the kind
 * (minor, major, incremental, weak), the pause, and the old space, new space and RSS when the
 * entry is delivered: just after the GC (entries delivered together read the same figures).
 * The start of a full GC's incremental marking shows how far V8 let the old space grow
 * before it, and the major GC what was live, with no need for the daemon's stdout.
 * For idle and slow phases only: under a stdout flood (hundreds of GCs a second) its own
 * work slows the loop and makes the flood's growth many times larger than without it;
 * there, use `--trace-gc` with the bench's SUP_OUT.
 *
 *   SUP_NODE_ARGS="--max-semi-space-size=2 --bytecode-old-age=1 --flush-baseline-code --import ./bench/tools/gc-log.mjs" npx tsx bench/footprint-vs-pm2.ts 300 --no-pm2 --no-flood
 *   grep -v minor /tmp/gc-<pid>.log          # the full GCs: old space before (incremental) and after (major)
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

const out = openSync(path.join(process.env.GC_LOG_DIR ?? tmpdir(), `gc-${process.pid}.log`), 'w');
const kinds = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak',
};
const mb = (bytes) => (bytes / 1e6).toFixed(2);
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const used = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
    const kind = kinds[entry.detail?.kind] ?? String(entry.detail?.kind);
    writeSync(out, `${(entry.startTime / 1000).toFixed(1)} ${kind} ${entry.duration.toFixed(1)}ms old=${mb(used.old_space)} new=${mb(used.new_space)} rss=${(rssKb / 1024).toFixed(1)}\n`);
  }
});
observer.observe({ entryTypes: ['gc'] });
process.on('exit', () => closeSync(out));
