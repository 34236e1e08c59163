#!/usr/bin/env node
// saa: the demo security auditor. Simulated work; payload flags in lib/demoWork.mjs.
// Standalone (no supervisor): node examples/agents/saa.mjs
import { between, runDemoAgent } from './lib/demoWork.mjs';

const agent = await runDemoAgent({
  name: 'saa',
  phases: ['scanning dependencies for CVEs', 'checking for hard-coded secrets', 'reviewing authentication flows', 'auditing input validation', 'writing the security report'],
  makeResult: () => ({ findings: { high: Math.floor(between(0, 2)), medium: Math.floor(between(0, 4)), low: Math.floor(between(0, 8)) } }),
});
if (!agent.connected) await agent.close();
