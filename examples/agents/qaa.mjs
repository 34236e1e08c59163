#!/usr/bin/env node
// qaa: the demo quality-assurance agent. Simulated work; payload flags in lib/demoWork.mjs.
// Standalone (no supervisor): node examples/agents/qaa.mjs
import { between, runDemoAgent } from './lib/demoWork.mjs';

const agent = await runDemoAgent({
  name: 'qaa',
  phases: ['running unit tests', 'running integration tests', 'measuring coverage', 'checking acceptance criteria', 'writing the QA report'],
  makeResult: () => ({ tests_passed: Math.floor(between(40, 400)), tests_failed: 0, coverage_pct: Math.round(between(70, 95) * 10) / 10 }),
});
if (!agent.connected) await agent.close();
