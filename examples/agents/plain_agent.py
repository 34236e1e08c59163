#!/usr/bin/env python3
"""A minimal agent written from docs/protocol.md alone, without the SDK (stdlib only).

It takes tasks one at a time and simulates them: the payload may set
``work_ms`` (default 500) and ``fail`` (a message: the task fails, retryable).
It checkpoints the number of tasks done and resumes it from ``welcome``.
Check it with: agentic-scrum-setup background conformance -- python3 examples/agents/plain_agent.py
"""
import json
import os
import queue
import signal
import socket
import sys
import threading
import time

fd = os.environ.get("AGENTIC_PROTOCOL_FD")
if not fd:
    sys.exit("run me under the supervisor (AGENTIC_PROTOCOL_FD is not set)")
# The channel is a UNIX stream socket: bytes, not messages. Lines end with \n.
sock = socket.socket(fileno=int(fd))
send_lock = threading.Lock()


def send(msg):
    data = (json.dumps(msg, separators=(",", ":")) + "\n").encode()
    with send_lock:
        try:
            sock.sendall(data)
        except OSError:
            pass


def lines():
    """Yields one parsed JSON object per line; skips what is not one (spec: ignore, never crash)."""
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return  # end-of-file: the supervisor is gone
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if isinstance(msg, dict):
                yield msg


tasks = queue.Queue()
cancelled = set()
stopping = threading.Event()
state = {"done": 0}


def heartbeats(interval_s):
    send({"type": "heartbeat"})  # the first one is due within the interval: send it at once
    while not stopping.wait(interval_s):
        send({"type": "heartbeat"})


def work():
    while True:
        msg = tasks.get()
        task = msg["task"]
        tid = task["id"]
        # Echo the correlation_id unchanged (or leave it out).
        send({"type": "task.started", "task_id": tid, "correlation_id": msg.get("correlation_id")})
        payload = task.get("payload") if isinstance(task.get("payload"), dict) else {}
        begin = time.monotonic()
        steps = 4
        outcome = "finished"
        for step in range(1, steps + 1):
            time.sleep(float(payload.get("work_ms", 500)) / 1000 / steps)
            if tid in cancelled or stopping.is_set():
                outcome = "cancelled" if tid in cancelled else "shutdown"
                break
            send({"type": "task.progress", "task_id": tid, "progress": step / steps, "message": "step %d of %d" % (step, steps)})
        if outcome == "finished" and payload.get("fail"):
            outcome = "failed"
        duration_ms = (time.monotonic() - begin) * 1000  # a JSON number of milliseconds
        if outcome == "finished":
            state["done"] += 1
            send({"type": "task.finished", "task_id": tid, "duration_ms": duration_ms, "result": {"done": state["done"]}})
            send({"type": "checkpoint", "state": state})
        elif outcome == "failed":
            send({"type": "task.failed", "task_id": tid, "duration_ms": duration_ms,
                  "error": {"message": str(payload["fail"]), "code": "ASKED"}, "retryable": True})
        elif outcome == "cancelled":
            # task.cancel needs no reply; reporting the task is allowed, not required.
            send({"type": "task.failed", "task_id": tid, "duration_ms": duration_ms,
                  "error": {"message": "cancelled", "code": "CANCELLED"}, "retryable": False})
        else:
            # Abandoned on shutdown: the supervisor gives it back to the queue (no attempt used).
            send({"type": "task.failed", "task_id": tid, "duration_ms": duration_ms,
                  "error": {"message": "shutting down", "code": "SHUTDOWN"}, "retryable": True})
            return


def shutdown(deadline_ms):
    stopping.set()
    # Give the current task a moment to notice, but exit well within the deadline.
    time.sleep(min(0.2, deadline_ms / 4000))
    send({"type": "checkpoint", "state": state})
    os._exit(0)


# The supervisor sends `shutdown` and SIGTERM together: let the message do the work
# (a SIGTERM alone, with no message, gets the same graceful stop).
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=shutdown, args=(5000,), daemon=True).start())
send({"type": "hello", "protocol": 1, "pid": os.getpid(), "capabilities": ["tasks", "checkpoint"]})
for msg in lines():
    kind = msg.get("type")
    if kind == "welcome":
        state.update((msg.get("checkpoint") or {}) if isinstance(msg.get("checkpoint"), dict) else {})
        interval = msg.get("settings", {}).get("heartbeat_interval_ms", 5000) / 1000
        threading.Thread(target=heartbeats, args=(interval,), daemon=True).start()
        threading.Thread(target=work, daemon=True).start()
    elif kind == "ping" and isinstance(msg.get("id"), int) and not isinstance(msg.get("id"), bool):
        send({"type": "pong", "id": msg["id"]})  # the same integer
    elif kind == "task.assign":
        tasks.put(msg)
    elif kind == "task.cancel":
        cancelled.add(msg.get("task_id"))
    elif kind == "shutdown":
        threading.Thread(target=shutdown, args=(msg.get("deadline_ms", 5000),), daemon=True).start()
    # anything else: ignored (newer messages, malformed lines)
stopping.set()
os._exit(0)
