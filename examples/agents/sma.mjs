#!/usr/bin/env node
// sma: the demo scrum master. Takes tasks like the others and, as its own work
// reported through track(), runs a "planning" step every SMA_PLANNING_INTERVAL_MS
// (default 20000). Payload flags in lib/demoWork.mjs.
// Standalone (no supervisor): node examples/agents/sma.mjs
import { setTimeout as sleep } from 'node:timers/promises';
import { between, runDemoAgent } from './lib/demoWork.mjs';

const PLANNING_INTERVAL_MS = Number(process.env.SMA_PLANNING_INTERVAL_MS ?? 20_000);

const agent = await runDemoAgent({
  name: 'sma',
  phases: ['reading the story', 'splitting it into sub-tasks', 'estimating', 'assigning to developers', 'updating the board'],
  makeResult: () => ({ subtasks: Math.floor(between(2, 7)), points: [1, 2, 3, 5, 8][Math.floor(between(0, 5))] }),
});

let planning = false;
async function plan() {
  if (planning) return;
  planning = true;
  try {
    await agent.track('planning', async (ctx) => {
      const steps = ['reviewing the backlog', 'checking velocity', 'ordering by priority'];
      for (const [i, message] of steps.entries()) {
        await sleep(between(150, 500), undefined, { signal: ctx.signal });
        ctx.progress((i + 1) / steps.length, message);
      }
      const reviewed = Math.floor(between(3, 12));
      ctx.log.info({ stories_reviewed: reviewed }, 'planning done');
      return { stories_reviewed: reviewed };
    });
  } catch (err) {
    agent.logger.warn({ err }, 'planning step failed');
  } finally {
    planning = false;
  }
}

if (agent.connected) {
  setInterval(plan, PLANNING_INTERVAL_MS).unref(); // the protocol channel keeps the process alive
  void plan();
} else {
  await plan();
  await agent.close();
}
