#!/usr/bin/env python3
"""deva_python: the demo Python developer agent, built on sdk/python/agentic_agent.py.

It takes tasks from the supervisor and simulates work. The task payload can set:
  work_ms    total simulated work in milliseconds (default: random 2000-4000)
  steps      number of progress reports (default 5)
  fail       a message: fail the task (retryable)
  permanent  a message: fail the task permanently (not retried)
It checkpoints the number of completed tasks and resumes it after a restart,
reports connectivity to a fake LLM API now and then, and logs JSON lines to stdout.

Run standalone (no supervisor): python3 examples/agents/deva_python.py
"""
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "python"))
import agentic_agent  # noqa: E402

FAKE_TARGET = "llm-api.example"
#: Seconds between background connectivity probes (env DEVA_CONNECTIVITY_INTERVAL_S, default 30).
CONNECTIVITY_INTERVAL_S = float(os.environ.get("DEVA_CONNECTIVITY_INTERVAL_S", "30"))


def log(level, msg, **fields):
    """One JSON line on stdout (the supervisor captures stdout as logs)."""
    line = {"ts": round(time.time(), 3), "level": level, "agent": "deva_python", "msg": msg}
    line.update(fields)
    print(json.dumps(line), flush=True)


agent = agentic_agent.connect(capabilities=("tasks", "checkpoint"))
state = {"completed": int((agent.restored_state or {}).get("completed", 0))}
log("info", "started", connected=agent.connected, completed=state["completed"],
    agent_id=agent.id)


def probe_llm_api():
    """Simulates a health probe of the fake LLM API; reports and returns the latency (ms)."""
    latency_ms = round(random.uniform(20, 120), 1)
    time.sleep(latency_ms / 1000)
    agent.report_connectivity(FAKE_TARGET, True, latency_ms=latency_ms)
    return latency_ms


def probe_forever():
    while True:
        time.sleep(CONNECTIVITY_INTERVAL_S)
        probe_llm_api()


@agent.on_task
def handle(task, ctx):
    payload = task.get("payload") if isinstance(task.get("payload"), dict) else {}
    work_ms = float(payload.get("work_ms", random.uniform(2000, 4000)))
    steps = max(1, int(payload.get("steps", 5)))
    log("info", "task started", task_id=task["id"], title=task.get("title"), work_ms=work_ms,
        correlation_id=ctx.correlation_id, attempt=ctx.attempt)
    ctx.progress(0.0, "reading the story")
    latency_ms = probe_llm_api()
    for step in range(1, steps + 1):
        time.sleep(work_ms / steps / 1000)
        if payload.get("fail") and step == steps // 2 + 1:
            raise RuntimeError(str(payload["fail"]))
        if payload.get("permanent"):
            raise agentic_agent.PermanentTaskError(str(payload["permanent"]), code="invalid_task")
        ctx.progress(step / steps, "step %d of %d" % (step, steps))  # raises TaskCancelled if cancelled
    state["completed"] += 1
    agent.checkpoint(state)
    log("info", "task finished", task_id=task["id"], completed=state["completed"])
    return {"completed_total": state["completed"], "work_ms": work_ms, "llm_latency_ms": latency_ms}


@agent.on_shutdown
def on_shutdown():
    log("info", "shutting down", reason=agent.shutdown_reason, completed=state["completed"])


if agent.connected:
    threading.Thread(target=probe_forever, name="connectivity", daemon=True).start()
    agent.run()
else:
    result = handle({"id": "LOCAL-1", "title": "standalone demo", "payload": {"work_ms": 1000}},
                    agentic_agent.TaskContext())
    log("info", "standalone run done", result=result)
