/**
 * The fleet database's size on disk per 1,000 tasks, on a real PostgreSQL 15 (started in
 * a temp directory by the test harness), written through the real PgTaskQueue and
 * PgCheckpointStore: each task submitted, taken, given progress and completed with a
 * result and an LLM usage record; one in ten failed once first (a second attempt row);
 * and checkpoints kept for the replicas (the history
 * `protocol.checkpoint_history` keeps). After VACUUM ANALYZE: pg_total_relation_size per
 * table (heap + indexes + TOAST) and pg_database_size, before and after, divided by the
 * number of tasks. Two shapes: "bare" (a title only) and "story" (a 2 KB prompt, a JSON
 * payload, a 1 KB result), which is what a claude per_task story looks like.
 *
 *   npx tsx bench/pg-size.ts [tasks=10000]
 */
import { PgTaskQueue } from '../src/queue/pg/PgTaskQueue.js';
import { openPgDatabase, type PgDatabase } from '../src/store/pg/PgDatabase.js';
import { PgCheckpointStore } from '../src/store/pg/PgCheckpointStore.js';
import { startPostgres } from '../test/helpers/postgres.js';

const N = Number(process.argv[2] ?? 10_000);
/** One task in ten fails once before it completes (two attempts, one backoff). */
const FAIL_EVERY = 10;
/** Replicas with checkpoints, and how many each keeps (the default `checkpoint_history`). */
const SLOTS = 50;
const KEEP = 5;
const WORDS = 'the a to of and in for on with as by that this is be are from at or an it not story test tests api user users endpoint handler schema migration field fields value values error errors request response token session cache queue task tasks agent agents role service build deploy config check checks pass fail return add remove update rename refactor module function class type interface import export async await promise retry timeout limit page pages list lists item items order sort filter search index key keys id ids name names date time log logs metric metrics health status code docs readme branch commit merge review security input output file files path paths json yaml sql table column row rows database query'.split(' ');
/** About `n` characters of English-like text (varied words, so TOAST compresses it about as much as a real prompt), ending in `seed`. */
function text(n: number, seed: number): string {
  let x = (seed * 2654435761) >>> 0;
  let out = '';
  while (out.length < n - 9) {
    x = (x * 1103515245 + 12345) >>> 0;
    out += `${WORDS[x % WORDS.length] as string}${x % 11 === 0 ? '. ' : ' '}`;
  }
  return `${out.slice(0, n - 9)} ${String(seed).padStart(8, '0')}`;
}

interface Shape { name: string; prompt: number; payload: boolean; result: number }
const SHAPES: Shape[] = [
  { name: 'bare (title only)', prompt: 0, payload: false, result: 0 },
  { name: 'story (2 KB prompt, payload, 1 KB result)', prompt: 2048, payload: true, result: 1024 },
];

async function sizes(db: PgDatabase): Promise<{ tables: Record<string, number>; database: number }> {
  await db.pool.query('VACUUM ANALYZE');
  const { rows } = await db.pool.query<{ t: string; b: number }>(`SELECT c.relname AS t, pg_total_relation_size(c.oid)::bigint AS b FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname`);
  const { rows: [d] } = await db.pool.query<{ b: number }>('SELECT pg_database_size(current_database())::bigint AS b');
  return { tables: Object.fromEntries(rows.map((r) => [r.t, r.b])), database: d?.b ?? 0 };
}

async function fill(db: PgDatabase, shape: Shape): Promise<void> {
  const q = new PgTaskQueue(db.pool, { supervisorId: 'sup-a', maxDepth: 10_000_000, maxAttempts: 3, historyRetention: 10_000_000 });
  const llm = { num_turns: 12, duration_ms: 184_000, total_cost_usd: 0.4123, usage: { input_tokens: 42_000, output_tokens: 6_100, cache_read_input_tokens: 120_000, cache_creation_input_tokens: 8_000 } };
  const BATCH = 16;
  for (let from = 0; from < N; from += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, N - from) }, async (_, k) => {
      const i = from + k;
      await q.submit({
        id: `STORY_${i}`, role: `deva_${i % 5}`, title: `Story ${i}: a title of about fifty characters`, correlation_id: i.toString(16).padStart(32, '0'),
        traceparent: `00-${i.toString(16).padStart(32, '0')}-${'1'.repeat(16)}-01`,
        ...(shape.prompt ? { prompt: text(shape.prompt, i) } : {}),
        ...(shape.payload ? { payload: { story: `STORY_${i}`, repo: 'git@example.com:team/app.git', branch: `story/${i}`, labels: ['backend', 'api'] } } : {}),
      });
    }));
  }
  for (let r = 0; r < 5; r++) {
    for (let t = await q.take(`deva_${r}`, `deva_${r}-0`); t; t = await q.take(`deva_${r}`, `deva_${r}-0`)) {
      await q.progress(t.id, 0.5, 'half way');
      const i = Number(t.id.slice(6));
      if (i % FAIL_EVERY === 0 && t.attempt === 1) {
        await q.fail(t.id, 'exit code 1', true, llm);
        await db.pool.query('UPDATE tasks SET not_before = NULL WHERE id = $1', [t.id]); // due again now
        continue;
      }
      await q.complete(t.id, shape.result ? { summary: text(shape.result, i) } : 'ok', llm);
    }
  }
  const cps = new PgCheckpointStore(db.pool, 256 * 1024, KEEP);
  for (let s = 0; s < SLOTS; s++) for (let k = 0; k < KEEP * 2; k++) await cps.put(`deva_${s % 5}-${s}`, { step: k, files: ['src/a.ts', 'src/b.ts'], notes: text(512, k) });
  const { rows: [c] } = await db.pool.query<{ n: number; a: number; r: number }>('SELECT (SELECT count(*) FROM tasks)::int AS n, (SELECT count(*) FROM task_attempts)::int AS a, (SELECT count(*) FROM task_retries)::int AS r');
  if (c?.n !== N) throw new Error(`expected ${N} tasks, found ${c?.n}`);
  console.log(`  rows: ${c.n} tasks, ${c.a} attempts, ${c.r} retry rows, ${SLOTS * KEEP} checkpoints (${SLOTS} replicas × ${KEEP})`);
}

const server = await startPostgres();
try {
  console.log(`${N} tasks per shape; sizes after VACUUM ANALYZE, in bytes per 1,000 tasks (heap + indexes + TOAST)`);
  for (const [i, shape] of SHAPES.entries()) {
    const db = await openPgDatabase(await server.createDatabase(`size${i}`), { max: 16 });
    const before = await sizes(db);
    await fill(db, shape);
    const after = await sizes(db);
    console.log(`${shape.name}:`);
    const per = (b: number) => `${((b / N) * 1000 / 1024).toFixed(0).padStart(6)} KB`;
    for (const [t, b] of Object.entries(after.tables)) {
      const grew = b - (before.tables[t] ?? 0);
      // checkpoints grow with the replicas, not with the tasks: their total
      console.log(`  ${t.padEnd(18)} ${t === 'checkpoints' ? `${(grew / 1024).toFixed(0).padStart(6)} KB in all (${SLOTS} replicas × ${KEEP}, ~0.6 KB each)` : per(grew)}`);
    }
    console.log(`  ${'database'.padEnd(18)} ${per(after.database - before.database)}   (${(after.database / 1024 / 1024).toFixed(1)} MB in all, ${(before.database / 1024 / 1024).toFixed(1)} MB empty)`);
    await db.close();
  }
} finally {
  await server.stop();
}
