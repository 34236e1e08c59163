"""Tests for agentic_agent: real agent processes on a real socketpair; the test plays the supervisor.

Run: python3 -m unittest discover -s sdk/python -p 'test_*.py'
"""
import json
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

SDK_DIR = os.path.dirname(os.path.abspath(__file__))
FIXTURE = textwrap.dedent("""
    import json, os, sys, time
    sys.path.insert(0, %r)
    import agentic_agent as aa

    mode = os.environ["FIXTURE_MODE"]
    if mode == "timeout":
        try:
            aa.connect(welcome_timeout_ms=500)
        except (TimeoutError, ConnectionError) as exc:
            print(type(exc).__name__, exc, flush=True)
            sys.exit(3)
    agent = aa.connect(capabilities=("tasks", "checkpoint"))
    assert aa.connect() is agent

    @agent.on_shutdown
    def hook():
        print("HOOK reason=%%s" %% agent.shutdown_reason, flush=True)
        agent.log("info", "hook ran")

    @agent.on_task
    def handle(task, ctx):
        p = task.get("payload") or {}
        if "fail" in p:
            raise RuntimeError(p["fail"])
        if "permanent" in p:
            raise aa.PermanentTaskError(p["permanent"], code="bad_input")
        if "checkpoint_size" in p:
            try:
                agent.checkpoint("x" * p["checkpoint_size"])
                rejected = None
            except aa.CheckpointTooLargeError as exc:
                rejected = str(exc)
            agent.checkpoint({"small": True})
            return {"rejected": rejected}
        if p.get("report"):
            agent.report_connectivity("llm-api", True, latency_ms=12.5)
            agent.report_connectivity("git", False, error="timeout")
            ctx.log("warning", "slow", attempt=ctx.attempt)
        if "metrics" in p:
            meter = agent.get_meter("fixture", "1.0")
            meter.create_counter("fixture.items", unit="{item}", description="Items.").add(p["metrics"], {"kind": "story"})
            meter.create_up_down_counter("fixture.queue").add(-2)
            meter.create_histogram("fixture.seconds", explicit_bucket_boundaries_advisory=[1, 2]).record(1.5, {"ok": True})
        if "retry_fails" in p:
            calls = []
            def flaky():
                calls.append(1)
                if len(calls) <= p["retry_fails"]:
                    raise ConnectionError("try %%d failed" %% len(calls))
                return len(calls)
            return {"calls": ctx.retry(flaky, attempts=3, initial_delay_ms=20)}
        if p.get("whoami"):
            ctx.logger.info("from the task", extra={"step": 1})
            return {"name": agent.name, "id": agent.id, "role": agent.role, "replica": agent.replica}
        if "block_ms" in p:
            time.sleep(p["block_ms"] / 1000)  # no progress: only the reader thread is free
        if "sleep_ms" in p:
            end = time.monotonic() + p["sleep_ms"] / 1000
            while time.monotonic() < end:
                ctx.progress(None, "waiting")  # raises TaskCancelled after task.cancel
                time.sleep(0.05)
        steps = p.get("steps", 0)
        for i in range(1, steps + 1):
            time.sleep(p.get("step_ms", 10) / 1000)
            ctx.progress(i / steps, "step %%d" %% i)
        return {"echo": task["id"], "attempt": ctx.attempt, "corr": ctx.correlation_id}

    if mode == "standalone":
        out = {"connected": agent.connected, "restored": agent.restored_state}
        agent.run()
        agent.checkpoint({"n": 1}); agent.log("info", "x"); agent.report_connectivity("t", True)
        with agent.track("local-work") as t:
            t.progress(0.5)
        out["result"] = handle({"id": "L-1", "payload": {"steps": 2}}, aa.TaskContext())
        print(json.dumps(out), flush=True)
        sys.exit(0)
    agent.log("info", "ready", restored=agent.restored_state, name=agent.info.get("name"),
              env_fd=os.environ.get("AGENTIC_PROTOCOL_FD"))
    if mode == "track":
        with agent.track("index-repo") as t:
            t.progress(0.5, "half")
            t.result = {"files": 3}
        try:
            with agent.track("broken"):
                raise ValueError("nope")
        except ValueError:
            agent.log("info", "caught")
    if mode == "noloop":
        time.sleep(30)  # not in run(): a shutdown must still end the process
    agent.run()
    print("RUN RETURNED", flush=True)
""" % SDK_DIR)

_tmp = tempfile.mkdtemp(prefix="agentic-agent-test-")
FIXTURE_PATH = os.path.join(_tmp, "fixture_agent.py")


def setUpModule():
    with open(FIXTURE_PATH, "w") as f:
        f.write(FIXTURE)


def tearDownModule():
    shutil.rmtree(_tmp, ignore_errors=True)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTIC_")}
    env.update(extra)
    return env


class FakeSupervisor:
    """The supervisor's end: spawns the fixture with fd in AGENTIC_PROTOCOL_FD and records messages."""

    def __init__(self, mode="serve"):
        self.sock, child = socket.socketpair()
        env = clean_env(AGENTIC_PROTOCOL_FD=str(child.fileno()), FIXTURE_MODE=mode,
                        AGENTIC_AGENT_NAME="fixture", AGENTIC_AGENT_ID="fixture-0")
        self.proc = subprocess.Popen([sys.executable, FIXTURE_PATH], pass_fds=(child.fileno(),), env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        child.close()
        self.inbox = queue.Queue()
        self.heartbeats = []  # monotonic receive times
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                self.inbox.put(None)
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                msg = json.loads(line)
                if msg["type"] == "heartbeat":
                    self.heartbeats.append(time.monotonic())
                else:
                    self.inbox.put(msg)

    def next(self, timeout=5.0):
        """The next non-heartbeat message; fails the test when none arrives within `timeout` s."""
        try:
            msg = self.inbox.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no message from the agent within %.1f s" % timeout)
        if msg is None:
            raise AssertionError("agent closed the channel; stderr: %s" % self.finish()[1])
        return msg

    def send(self, msg):
        self.send_raw((json.dumps(msg) + "\n").encode())

    def send_raw(self, data):
        self.sock.sendall(data)

    def handshake(self, checkpoint=None, heartbeat_ms=60000, max_checkpoint_bytes=100000):
        hello = self.next()
        self.send({"type": "welcome", "protocol": 1, "checkpoint": checkpoint,
                   "agent": {"name": "fixture", "id": "fixture-0", "role": "developer", "replica": 0},
                   "settings": {"heartbeat_interval_ms": heartbeat_ms, "max_checkpoint_bytes": max_checkpoint_bytes}})
        ready = self.next()
        assert ready["msg"] == "ready", ready
        return hello, ready

    def assign(self, task_id, payload=None, correlation_id="corr-1", attempt=1):
        self.send({"type": "task.assign", "correlation_id": correlation_id, "traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01",
                   "task": {"id": task_id, "role": "developer", "title": "t", "payload": payload,
                            "priority": 5, "attempt": attempt}})

    def wait_exit(self, timeout=5.0):
        return self.proc.wait(timeout=timeout)

    def finish(self):
        """Closes the channel, stops the process if still running, returns (stdout, stderr) text."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # close() alone does not wake our blocked recv()
        except OSError:
            pass
        self.sock.close()
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        out, err = self.proc.communicate(timeout=5)
        return out.decode(), err.decode()


class ProtocolTest(unittest.TestCase):
    def start(self, mode="serve", **handshake):
        sup = FakeSupervisor(mode)
        self.addCleanup(sup.finish)
        hello, ready = sup.handshake(**handshake)
        return sup, hello, ready

    def test_hello_then_welcome_restores_the_checkpoint(self):
        sup, hello, ready = self.start(checkpoint={"completed": 7})
        self.assertEqual(hello["type"], "hello")
        self.assertEqual(hello["protocol"], 1)
        self.assertEqual(hello["pid"], sup.proc.pid)
        self.assertEqual(hello["sdk"]["name"], "agentic-agent-python")
        self.assertRegex(hello["sdk"]["version"], r"^\d+\.\d+\.\d+")
        self.assertEqual(hello["capabilities"], ["tasks", "checkpoint", "metrics"])
        self.assertEqual(ready["fields"]["restored"], {"completed": 7})
        self.assertEqual(ready["fields"]["name"], "fixture")
        self.assertIsNone(ready["fields"]["env_fd"], "the fd variable is removed for child processes")

    def test_answers_pings_with_the_same_id_even_while_a_task_blocks(self):
        sup, _, _ = self.start()
        sup.send({"type": "ping", "id": 41})
        self.assertEqual(sup.next(), {"type": "pong", "id": 41})
        sup.assign("T-block", {"block_ms": 1500})
        self.assertEqual(sup.next()["type"], "task.started")
        sent = time.monotonic()
        sup.send({"type": "ping", "id": 42})
        self.assertEqual(sup.next(timeout=1.0), {"type": "pong", "id": 42})
        self.assertLess(time.monotonic() - sent, 0.5)
        self.assertEqual(sup.next()["type"], "task.finished")

    def test_sends_heartbeats_at_the_welcome_interval(self):
        sup, _, _ = self.start(heartbeat_ms=100)
        time.sleep(1.05)
        beats = list(sup.heartbeats)
        self.assertGreaterEqual(len(beats), 6, beats)
        self.assertLessEqual(len(beats), 14, beats)
        gaps = [b - a for a, b in zip(beats, beats[1:])]
        self.assertAlmostEqual(statistics.median(gaps), 0.1, delta=0.05)

    def test_runs_an_assigned_task_with_started_progress_and_finished(self):
        sup, _, _ = self.start()
        sup.assign("T-1", {"steps": 3, "step_ms": 100}, correlation_id="corr-9", attempt=2)
        started = sup.next()
        t0 = time.monotonic()
        self.assertEqual(started, {"type": "task.started", "task_id": "T-1", "correlation_id": "corr-9"})
        progress = [sup.next() for _ in range(3)]
        self.assertEqual([p["type"] for p in progress], ["task.progress"] * 3)
        self.assertEqual([p["task_id"] for p in progress], ["T-1"] * 3)
        self.assertEqual([round(p["progress"], 2) for p in progress], [0.33, 0.67, 1.0])
        self.assertEqual(progress[0]["message"], "step 1")
        finished = sup.next()
        elapsed_ms = (time.monotonic() - t0) * 1000
        self.assertEqual(finished["type"], "task.finished")
        self.assertEqual(finished["task_id"], "T-1")
        self.assertEqual(finished["result"], {"echo": "T-1", "attempt": 2, "corr": "corr-9"})
        self.assertGreaterEqual(finished["duration_ms"], 300)
        self.assertAlmostEqual(finished["duration_ms"], elapsed_ms, delta=250)

    def test_reports_a_raised_exception_as_a_retryable_failure(self):
        sup, _, _ = self.start()
        sup.assign("T-2", {"fail": "boom"})
        self.assertEqual(sup.next()["type"], "task.started")
        failed = sup.next()
        self.assertEqual(failed["type"], "task.failed")
        self.assertEqual(failed["task_id"], "T-2")
        self.assertEqual(failed["error"], {"message": "boom", "code": "RuntimeError"})
        self.assertIs(failed["retryable"], True)
        self.assertGreaterEqual(failed["duration_ms"], 0)

    def test_reports_a_permanent_task_error_as_not_retryable(self):
        sup, _, _ = self.start()
        sup.assign("T-3", {"permanent": "bad story id"})
        sup.next()
        failed = sup.next()
        self.assertEqual(failed["error"], {"message": "bad story id", "code": "bad_input"})
        self.assertIs(failed["retryable"], False)

    def test_task_cancel_stops_the_task_at_its_next_progress(self):
        sup, _, _ = self.start()
        sup.assign("T-4", {"sleep_ms": 10000})
        self.assertEqual(sup.next()["type"], "task.started")
        sup.send({"type": "task.cancel", "task_id": "T-4", "reason": "timed out"})
        msg = sup.next()
        while msg["type"] == "task.progress":
            msg = sup.next()
        self.assertEqual(msg["type"], "task.failed")
        self.assertEqual(msg["error"]["code"], "cancelled")
        self.assertIn("timed out", msg["error"]["message"])
        self.assertIs(msg["retryable"], False)
        self.assertLess(msg["duration_ms"], 2000)

    def test_rejects_a_checkpoint_over_the_size_limit(self):
        sup, _, _ = self.start(max_checkpoint_bytes=100)
        sup.assign("T-5", {"checkpoint_size": 200})
        sup.next()
        self.assertEqual(sup.next(), {"type": "checkpoint", "state": {"small": True}})
        finished = sup.next()
        self.assertIn("202 bytes", finished["result"]["rejected"])
        self.assertIn("limit of 100 bytes", finished["result"]["rejected"])

    def test_reports_connectivity_and_task_logs(self):
        sup, _, _ = self.start()
        sup.assign("T-6", {"report": True}, correlation_id="corr-6")
        sup.next()
        self.assertEqual(sup.next(), {"type": "connectivity", "target": "llm-api", "ok": True, "latency_ms": 12.5})
        self.assertEqual(sup.next(), {"type": "connectivity", "target": "git", "ok": False, "error": "timeout"})
        self.assertEqual(sup.next(), {"type": "log", "level": "warn", "msg": "slow",
                                      "fields": {"attempt": 1, "task_id": "T-6", "correlation_id": "corr-6",
                                                 "trace_id": "a" * 32}})

    def test_track_reports_self_started_work(self):
        sup, _, _ = self.start(mode="track")
        started = sup.next()
        self.assertEqual(started["name"], "index-repo")
        self.assertTrue(started["task_id"].startswith("index-repo-"))
        self.assertEqual(sup.next(), {"type": "task.progress", "task_id": started["task_id"],
                                      "progress": 0.5, "message": "half"})
        finished = sup.next()
        self.assertEqual((finished["type"], finished["task_id"], finished["result"]),
                         ("task.finished", started["task_id"], {"files": 3}))
        self.assertEqual(sup.next()["name"], "broken")
        failed = sup.next()
        self.assertEqual((failed["type"], failed["error"]["code"]), ("task.failed", "ValueError"))
        self.assertEqual(sup.next()["msg"], "caught")

    def test_ignores_malformed_lines_from_the_supervisor(self):
        sup, _, _ = self.start()
        sup.send_raw(b'not json\n[1,2]\n\xff\xfe\n\n{"type":"task.assign"}\n{"type":"ping"}\n'
                     b'{"type":"future.thing"}\n{"type":"task.cancel"}\n{"type":"ping","id":5}\n')
        self.assertEqual(sup.next(), {"type": "pong", "id": 5})
        sup.assign("T-7", {"steps": 1})
        self.assertEqual(sup.next()["type"], "task.started")
        self.assertEqual(sup.next()["type"], "task.progress")
        self.assertEqual(sup.next()["type"], "task.finished")
        self.assertIsNone(sup.proc.poll())
        _, err = sup.finish()
        self.assertIn("ignored a not_json line", err)
        self.assertIn("ignored a not_object line", err)
        self.assertIn("task.assign without task.id", err)

    def test_shutdown_runs_hooks_and_exits_0(self):
        sup, _, _ = self.start()
        sup.send({"type": "shutdown", "deadline_ms": 5000, "reason": "operator stop"})
        self.assertEqual(sup.next()["msg"], "hook ran")
        self.assertEqual(sup.wait_exit(), 0)
        out, _ = sup.finish()
        # The fixture logs "ready" just before it calls run(): a shutdown that lands in
        # between runs the hooks and exits from the reader thread, without "RUN RETURNED".
        self.assertIn(out.splitlines(), (["HOOK reason=operator stop", "RUN RETURNED"], ["HOOK reason=operator stop"]))

    def test_shutdown_finishes_the_current_task_and_skips_queued_ones(self):
        sup, _, _ = self.start()
        sup.assign("T-a", {"steps": 4, "step_ms": 100})
        sup.assign("T-b", {"steps": 1})
        self.assertEqual(sup.next()["task_id"], "T-a")
        sup.send({"type": "shutdown", "deadline_ms": 5000, "reason": "deploy"})
        msgs = []
        while not msgs or msgs[-1].get("msg") != "hook ran":
            msgs.append(sup.next())
        self.assertIn(("task.finished", "T-a"), [(m["type"], m.get("task_id")) for m in msgs])
        self.assertNotIn("T-b", [m.get("task_id") for m in msgs])
        self.assertEqual(sup.wait_exit(), 0)

    def test_sigterm_runs_hooks_and_exits_0(self):
        sup, _, _ = self.start()
        sup.proc.send_signal(signal.SIGTERM)
        self.assertEqual(sup.next()["msg"], "hook ran")
        self.assertEqual(sup.wait_exit(), 0)
        out, _ = sup.finish()
        # "RUN RETURNED" follows when run() had started before the signal came.
        self.assertEqual(out.splitlines()[0], "HOOK reason=SIGTERM")

    def test_shutdown_message_and_sigterm_together_still_run_the_hooks(self):
        # What the supervisor does to stop an agent: both at the same moment.
        sup, _, _ = self.start()
        sup.send({"type": "shutdown", "deadline_ms": 5000, "reason": "operator stop"})
        sup.proc.send_signal(signal.SIGTERM)
        self.assertEqual(sup.next()["msg"], "hook ran")
        self.assertEqual(sup.wait_exit(), 0)
        out, _ = sup.finish()
        self.assertRegex(out.splitlines()[0], r"^HOOK reason=(operator stop|SIGTERM)$")  # whichever came first

    def test_shutdown_exits_the_process_when_run_is_not_active(self):
        sup, _, _ = self.start(mode="noloop")
        sup.send({"type": "shutdown", "deadline_ms": 5000, "reason": "stop"})
        self.assertEqual(sup.wait_exit(), 0)
        out, _ = sup.finish()
        self.assertEqual(out.splitlines(), ["HOOK reason=stop"])

    def test_end_of_file_runs_hooks_and_exits_even_mid_task(self):
        sup, _, _ = self.start()
        sup.assign("T-8", {"sleep_ms": 20000})
        self.assertEqual(sup.next()["type"], "task.started")
        sup.sock.shutdown(socket.SHUT_RDWR)
        t0 = time.monotonic()
        self.assertEqual(sup.wait_exit(timeout=5), 0)
        self.assertLess(time.monotonic() - t0, 3)
        out, _ = sup.finish()
        self.assertEqual(out.splitlines(), ["HOOK reason=supervisor closed the protocol channel"])

    def test_connect_times_out_without_welcome(self):
        sup = FakeSupervisor("timeout")
        self.addCleanup(sup.finish)
        self.assertEqual(sup.next()["type"], "hello")
        self.assertEqual(sup.wait_exit(), 3)
        self.assertIn("TimeoutError No welcome from the supervisor within 0.5 s", sup.finish()[0])

    def test_connect_fails_when_the_channel_closes_before_welcome(self):
        sup = FakeSupervisor("timeout")
        self.addCleanup(sup.finish)
        self.assertEqual(sup.next()["type"], "hello")
        sup.sock.shutdown(socket.SHUT_RDWR)
        self.assertEqual(sup.wait_exit(), 3)
        self.assertIn("ConnectionError", sup.finish()[0])


class ParityTest(unittest.TestCase):
    """What the Python SDK has on par with the Node SDK (issue 17)."""

    start = ProtocolTest.start

    def test_custom_metrics_are_sent_as_the_v1_metrics_message_at_shutdown(self):
        sup, _, _ = self.start()
        sup.assign("T-m", {"metrics": 3})
        self.assertEqual(sup.next()["type"], "task.started")
        self.assertEqual(sup.next()["type"], "task.finished")
        sup.send({"type": "shutdown", "deadline_ms": 5000, "reason": "stop"})
        self.assertEqual(sup.next()["msg"], "hook ran")
        msg = sup.next()
        self.assertEqual(msg["type"], "metrics")
        rm = msg["resource_metrics"]
        self.assertEqual(rm["version"], 1)
        self.assertEqual(rm["scope_metrics"][0]["scope"], {"name": "fixture", "version": "1.0"})
        by_name = {m["name"]: m for m in rm["scope_metrics"][0]["metrics"]}
        self.assertEqual(by_name["fixture.items"], {"name": "fixture.items", "kind": "counter", "unit": "{item}",
                                                    "description": "Items.",
                                                    "points": [{"value": 3, "attributes": {"kind": "story"}}]})
        self.assertEqual(by_name["fixture.queue"]["kind"], "gauge")
        self.assertEqual(by_name["fixture.queue"]["points"], [{"value": -2}])
        self.assertEqual(by_name["fixture.seconds"]["points"], [
            {"count": 1, "sum": 1.5, "attributes": {"ok": "true"}, "buckets": {"boundaries": [1.0, 2.0], "counts": [0, 1, 0]}}])
        self.assertEqual(sup.wait_exit(), 0)

    def test_retry_backs_off_reporting_progress_then_returns(self):
        sup, _, _ = self.start()
        sup.assign("T-r", {"retry_fails": 2})
        msgs = [sup.next() for _ in range(4)]
        self.assertEqual([m["type"] for m in msgs], ["task.started", "task.progress", "task.progress", "task.finished"])
        self.assertRegex(msgs[1]["message"], r"^retry 1 of 2 in \d+ ms after ConnectionError: try 1 failed$")
        self.assertEqual(msgs[3]["result"], {"calls": 3})

    def test_identity_attributes_and_a_task_logger_carrying_trace_id(self):
        sup, _, _ = self.start()
        sup.assign("T-w", {"whoami": True})
        self.assertEqual(sup.next()["type"], "task.started")
        done = sup.next()
        self.assertEqual(done["result"], {"name": "fixture", "id": "fixture-0", "role": "developer", "replica": 0})
        out, _ = sup.finish()
        line = next(json.loads(l) for l in out.splitlines() if "from the task" in l)
        self.assertEqual({k: line[k] for k in ("level", "agent", "agent_id", "role", "replica", "task_id", "trace_id", "step")},
                         {"level": "info", "agent": "fixture", "agent_id": "fixture-0", "role": "developer", "replica": 0,
                          "task_id": "T-w", "trace_id": "a" * 32, "step": 1})

    def test_a_task_still_running_at_the_shutdown_deadline_is_given_back_and_the_process_exits(self):
        sup, _, _ = self.start()
        sup.assign("T-long", {"block_ms": 30000})
        self.assertEqual(sup.next()["type"], "task.started")
        t0 = time.monotonic()
        sup.send({"type": "shutdown", "deadline_ms": 1000, "reason": "stop"})
        failed = sup.next(timeout=3)
        self.assertEqual((failed["type"], failed["task_id"], failed["error"]["code"], failed["retryable"]),
                         ("task.failed", "T-long", "SHUTDOWN", True))
        self.assertEqual(sup.next()["msg"], "hook ran")
        self.assertEqual(sup.wait_exit(), 0)
        self.assertLess(time.monotonic() - t0, 1.5)


class StandaloneTest(unittest.TestCase):
    def test_probe_reports_http_below_500_and_tcp_as_reachable_and_never_raises(self):
        import http.server
        sys.path.insert(0, SDK_DIR)
        import agentic_agent as aa

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(404 if self.path == "/missing" else 503)
                self.end_headers()

            def log_message(self, *a):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        port = server.server_address[1]
        agent = aa.Agent(None)
        self.assertTrue(agent.probe("api", "http://127.0.0.1:%d/missing" % port)["ok"])
        down = agent.probe("api", "http://127.0.0.1:%d/health" % port)
        self.assertEqual((down["ok"], down["error"]), (False, "HTTP 503"))
        self.assertTrue(agent.probe("db", "tcp://127.0.0.1:%d" % port)["ok"])
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        gone = closed.getsockname()[1]
        closed.close()
        self.assertFalse(agent.probe("db", "tcp://127.0.0.1:%d" % gone, timeout_ms=1000)["ok"])
        self.assertIn("expected", agent.probe("x", "ftp://nowhere")["error"])

    def test_meter_instruments_follow_opentelemetry_rules(self):
        sys.path.insert(0, SDK_DIR)
        import agentic_agent as aa
        meter = aa.Agent(None).get_meter("m")
        c = meter.create_counter("a.b")
        self.assertIs(meter.create_counter("a.b"), c)
        self.assertRaises(ValueError, meter.create_histogram, "a.b")
        self.assertRaises(ValueError, meter.create_counter, "1bad")
        c.add(-1)  # ignored with a warning, as OpenTelemetry does
        c.add(2)
        self.assertEqual(c._points(), [{"value": 2}])
        self.assertRaises(ValueError, meter.create_histogram, "h", explicit_bucket_boundaries_advisory=[2, 1])

    def test_connect_keeps_timeout_as_a_deprecated_alias(self):
        sys.path.insert(0, SDK_DIR)
        import agentic_agent as aa
        import warnings as w
        saved = os.environ.pop("AGENTIC_PROTOCOL_FD", None)
        self.addCleanup(lambda: saved is not None and os.environ.__setitem__("AGENTIC_PROTOCOL_FD", saved))
        with w.catch_warnings(record=True) as caught:
            w.simplefilter("always")
            aa.connect(timeout=1.0)
        self.assertTrue(any(issubclass(x.category, DeprecationWarning) and "welcome_timeout_ms" in str(x.message) for x in caught))


    def test_without_the_fd_variable_every_call_is_a_no_op(self):
        proc = subprocess.run([sys.executable, FIXTURE_PATH], env=clean_env(FIXTURE_MODE="standalone"),
                              capture_output=True, timeout=10)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        out = json.loads(proc.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(out, {"connected": False, "restored": None,
                               "result": {"echo": "L-1", "attempt": 1, "corr": None}})

    def test_checkpoint_rejects_state_that_is_not_json_even_standalone(self):
        sys.path.insert(0, SDK_DIR)
        import agentic_agent as aa
        agent = aa.Agent(None)
        self.assertRaises(TypeError, agent.checkpoint, {"when": object()})
        self.assertRaises(ValueError, agent.checkpoint, float("nan"))
        self.assertRaises(ValueError, aa.TaskContext().progress, 1.5)
        self.assertRaises(ValueError, agent.log, "loud", "x")


class StepTest(unittest.TestCase):
    """ctx.step(): what a task.step carries, and that it is sent only when the supervisor watches steps."""

    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, SDK_DIR)
        global aa
        import agentic_agent as aa  # noqa: F401

    class _Agent:
        def __init__(self):
            self.sent = []

        def _identity_fields(self):
            return {"agent": "a"}

        def _send(self, msg):
            self.sent.append(msg)

    def test_digests_are_canonical_and_the_summary_is_short(self):
        self.assertEqual(aa._step_digest({"b": 1, "a": [1, {"y": 2, "x": 1}]}), aa._step_digest({"a": [1, {"x": 1, "y": 2}], "b": 1}))
        self.assertNotEqual(aa._step_digest("building: 10 %"), aa._step_digest("building: 20 %"))
        self.assertEqual(aa._step_summary({"path": "note.txt", "lines": [1, 2]}), "note.txt")
        self.assertEqual(aa._step_summary("  a\n b "), "a b")
        self.assertEqual(len(aa._step_summary("x" * 500)), 80)
        self.assertIsNone(aa._step_summary(None))

    def test_sends_a_step_only_for_an_assigned_task_on_a_supervisor_that_watches_steps(self):
        agent = self._Agent()
        ctx = aa.TaskContext(agent, "T-1")
        ctx.step("read_file", {"path": "note.txt"}, "same")
        self.assertEqual(agent.sent, [], "no task_steps in welcome: nothing sent")
        ctx._report_steps = True
        ctx.step("read_file", {"path": "note.txt"}, "same")
        self.assertEqual(agent.sent, [{"type": "task.step", "task_id": "T-1", "name": "read_file", "summary": "note.txt",
                                       "input_digest": aa._step_digest({"path": "note.txt"}), "output_digest": aa._step_digest("same")}])
        aa.TaskContext().step("standalone")  # no agent: a no-op


if __name__ == "__main__":
    unittest.main()
