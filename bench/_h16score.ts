import { loadCorpus, replay } from '../test/fixtures/memory-traces/corpus.js';
const CONFIG = { windowSeconds: 300, warmupSeconds: 60, minGrowthMbPerMin: 1, minRSquared: 0.6, maxMemoryMb: 1024 };
for (const t of loadCorpus()) {
  const r = replay(t, CONFIG);
  const gates = new Map<string, number>();
  for (const e of r.evaluations) gates.set(e.result.gate, (gates.get(e.result.gate) ?? 0) + 1);
  const bad = (t.label === 'leak' && (r.detectedAtS === undefined || r.detectedAtS - (t.leak_start_s ?? 0) > 300)) || r.falseAlarmAtS !== undefined;
  console.log(`${bad ? '!!' : '  '} ${t.file.padEnd(45)} ${t.label.padEnd(8)} det ${r.detectedAtS === undefined ? '-' : r.detectedAtS - (t.leak_start_s ?? 0)} fa ${r.falseAlarmAtS ?? '-'} ${[...gates].map(([g, n]) => `${g}:${n}`).join(' ')}`);
}
