// Shared simulated work for the Node demo agents (saa, qaa, sma).
//
// A task's payload can set:
//   work_ms          total simulated work in milliseconds (default: random 1500-4000)
//   fail             true: fail the task (retryable); "permanent": fail it for good
//   crash            true: exit(1) mid-task (the supervisor restarts the agent)
//   leak_mb_per_min  N: start leaking N MiB of heap per minute (until the process dies)
//   block_ms         N: block the event loop for N ms mid-task (missed pongs, lag)
//   hang             true: never finish, but keep heartbeating (a livelocked task)
// The agent checkpoints its completed-task count and resumes it after a restart,
// reports connectivity to a fake LLM API now and then, logs JSON to stdout, and
// counts its work steps in a metric of its own (demo_work_steps_total on the
// supervisor's /metrics, through the meter provider connect() registers).
import { metrics } from '@opentelemetry/api';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, PermanentTaskError } from 'agentic-scrum-background/agent';

export const FAKE_TARGET = 'llm-api.example';
const CONNECTIVITY_INTERVAL_MS = Number(process.env.DEMO_CONNECTIVITY_INTERVAL_MS ?? 30_000);

const between = (min, max) => min + Math.random() * (max - min);
const leaked = [];
let workSteps; // created on first use, after connect() registered the meter provider
let leakTimer;

/** Leaks `mbPerMin` MiB of V8 heap per minute, in 64 KiB strings (small enough to live on the heap). */
function startLeak(mbPerMin, log) {
  const chunk = 64 * 1024;
  const perSecond = Math.max(1, Math.round((mbPerMin * 1024 * 1024) / 60 / chunk));
  clearInterval(leakTimer);
  leakTimer = setInterval(() => {
    for (let i = 0; i < perSecond; i++) leaked.push(Buffer.alloc(chunk, 97 + (leaked.length % 26)).toString('latin1'));
  }, 1000);
  leakTimer.unref();
  log.warn({ leak_mb_per_min: mbPerMin }, 'leaking memory on purpose');
}

/** Resolves never; rejects when the task is cancelled or the agent shuts down. */
function untilAborted(signal) {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

/** Simulates one task: `phases` are the progress messages, `makeResult()` the result. */
export async function simulateWork(task, ctx, { phases, makeResult }) {
  const p = task.payload && typeof task.payload === 'object' ? task.payload : {};
  const workMs = Number.isFinite(p.work_ms) ? p.work_ms : between(1500, 4000);
  const steps = 3 + Math.floor(Math.random() * 3);
  ctx.log.info({ title: task.title, work_ms: Math.round(workMs), steps }, 'working');
  if (p.leak_mb_per_min > 0) startLeak(p.leak_mb_per_min, ctx.log);
  for (let step = 1; step <= steps; step++) {
    await sleep(workMs / steps, undefined, { signal: ctx.signal });
    ctx.progress(step / steps, phases[(step - 1) % phases.length]);
    workSteps ??= metrics.getMeter('agentic-demo').createCounter('demo.work_steps', { description: 'Simulated work steps the demo agent completed.' });
    workSteps.add(1);
    if (step !== 1) continue;
    if (p.crash) {
      ctx.log.error('crashing on purpose (payload.crash)');
      process.exit(1);
    }
    if (p.block_ms > 0) {
      ctx.log.warn({ block_ms: p.block_ms }, 'blocking the event loop on purpose');
      const until = Date.now() + p.block_ms;
      while (Date.now() < until); // busy-wait: nothing else runs, not even pongs
    }
    if (p.hang) {
      ctx.log.warn('hanging on purpose (payload.hang): heartbeats continue, progress stops');
      await untilAborted(ctx.signal);
    }
    if (p.fail === 'permanent') throw new PermanentTaskError('simulated permanent failure (payload.fail)', 'SIMULATED');
    if (p.fail) throw Object.assign(new Error('simulated failure (payload.fail)'), { code: 'SIMULATED' });
  }
  return makeResult();
}

/**
 * Runs a demo agent: connects, resumes the completed count from the last checkpoint,
 * takes tasks, checkpoints after each one and reports connectivity now and then.
 * Standalone (no supervisor), it runs two sample tasks through `track()` and exits.
 * @returns the connected agent (for extra work such as sma's planning).
 */
export async function runDemoAgent({ name, phases, makeResult }) {
  const agent = await connect({ name, role: name, capabilities: ['tasks', 'checkpoint'] });
  let completed = Number(agent.restoredState?.completed ?? 0);
  agent.logger.info({ connected: agent.connected, completed, restored: agent.restoredState !== null }, 'demo agent started');

  const reportConnectivity = () => agent.reportConnectivity(FAKE_TARGET, true, Math.round(between(20, 150) * 10) / 10);
  reportConnectivity();
  setInterval(reportConnectivity, CONNECTIVITY_INTERVAL_MS).unref();

  const done = (taskId) => {
    completed++;
    agent.checkpoint({ completed, last_task: taskId, at: new Date().toISOString() });
  };
  agent.onTask(async (task, ctx) => {
    if (Math.random() < 0.3) reportConnectivity();
    const result = await simulateWork(task, ctx, { phases, makeResult });
    done(task.id);
    return { ...result, completed_total: completed };
  });
  agent.onShutdown((info) => agent.logger.info({ reason: info.reason, completed }, 'demo agent stopping'));

  if (!agent.connected) {
    for (const title of ['sample story 1', 'sample story 2']) {
      await agent.track(`sample-${name}`, async (ctx) => {
        const result = await simulateWork({ title, payload: { work_ms: 600 } }, ctx, { phases, makeResult });
        done(ctx.taskId);
        return result;
      });
    }
  }
  return agent;
}

export { between };
