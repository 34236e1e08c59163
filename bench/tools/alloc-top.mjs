/**
 * Sums a sampling heap profile (bench/tools/alloc-profile.mjs) by the innermost frame of
 * our own code (dist/, not node_modules) on each allocation's stack, and by the allocating
 * function itself: which of our code paths produce the garbage.
 *
 *   node bench/tools/alloc-top.mjs /tmp/alloc-<pid>.json [rows=25]
 */
import { readFileSync } from 'node:fs';

const [file, rows = '25'] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/tools/alloc-top.mjs <alloc-<pid>.json> [rows]');
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nameOf = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/.*\/(dist|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
const sizeOf = new Map();
for (const s of profile.samples) sizeOf.set(s.nodeId, (sizeOf.get(s.nodeId) ?? 0) + s.size);
const byOwn = new Map();
const bySelf = new Map();
let total = 0;
const stack = [[profile.head, '(no frame of ours)']];
while (stack.length) {
  const [node, outer] = stack.pop();
  const url = node.callFrame.url;
  const own = url.includes('/dist/') && !url.includes('/node_modules/') ? nameOf(node) : outer;
  const size = sizeOf.get(node.id) ?? 0;
  if (size) {
    total += size;
    byOwn.set(own, (byOwn.get(own) ?? 0) + size);
    bySelf.set(nameOf(node), (bySelf.get(nameOf(node)) ?? 0) + size);
  }
  for (const c of node.children) stack.push([c, own]);
}
const show = (title, m) => {
  console.log(`== ${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(rows))) console.log(`${(v / 1e6).toFixed(2).padStart(8)} MB  ${(v / total * 100).toFixed(1).padStart(5)} %  ${k}`);
};
console.log(`sampled allocations: ${(total / 1e6).toFixed(1)} MB`);
show('by the innermost frame of our code', byOwn);
show('by the allocating function', bySelf);
