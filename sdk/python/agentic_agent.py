"""Agent protocol v1 for Python agents: standard library only, Python 3.8+.

The supervisor starts the agent with an inherited duplex UNIX socketpair whose
file descriptor number is in ``AGENTIC_PROTOCOL_FD``; messages are NDJSON (one
JSON object per line). The spec is ``docs/protocol.md``.

Usage::

    import agentic_agent

    agent = agentic_agent.connect(capabilities=("tasks", "checkpoint"))
    done = (agent.restored_state or {}).get("done", 0)

    @agent.on_task
    def handle(task, ctx):
        ctx.progress(0.5, "half way")
        return {"ok": True}          # reported as task.finished.result

    agent.run()                      # returns after a `shutdown` message

Threads: a reader thread parses supervisor messages and answers ``ping`` at
once, so pongs flow even while a task handler runs; a daemon thread sends
heartbeats. Because both keep running while a handler is stuck in Python code,
a hung *task* is detected by the supervisor's stale-progress and task-timeout
checks, not by pings; a hung *process* (e.g. a C call holding the GIL) stops
heartbeats and pongs alike and is detected by the heartbeat check.

Shutdown: on a ``shutdown`` message, ``run()`` lets the current task finish
(``ctx.should_stop`` turns true), skips queued tasks, runs the shutdown hooks
and returns. If ``run()`` is not active, the hooks run and the process exits
with status 0. On end-of-file (the supervisor is gone) the hooks run and the
process exits with status 0 at once, even mid-task.

Without ``AGENTIC_PROTOCOL_FD`` the agent runs standalone: every protocol call
is a no-op, ``run()`` returns at once, and a handler can be called directly as
``handle(task, TaskContext())``.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

__all__ = [
    "Agent", "CheckpointTooLargeError", "PermanentTaskError", "TaskCancelled",
    "TaskContext", "connect", "PROTOCOL_VERSION", "SDK_NAME", "__version__",
]
__version__ = "0.1.0"
PROTOCOL_VERSION = 1
SDK_NAME = "agentic-agent-python"
ENV_PROTOCOL_FD = "AGENTIC_PROTOCOL_FD"
#: Defaults used when a welcome omits a setting (they match the Node SDK).
DEFAULT_HEARTBEAT_INTERVAL_MS = 5000
DEFAULT_MAX_CHECKPOINT_BYTES = 256 * 1024
#: Longest supervisor line accepted, in bytes; longer lines are dropped.
MAX_LINE_BYTES = 16 * 1024 * 1024
_LEVELS = {"trace": "trace", "debug": "debug", "info": "info", "warn": "warn", "warning": "warn",
           "error": "error", "fatal": "fatal", "critical": "fatal"}
_MAX_PROGRESS_MESSAGE_CHARS = 4096

Handler = Callable[[Dict[str, Any], "TaskContext"], Any]


class PermanentTaskError(Exception):
    """Raise from a task handler to fail the task without retries.

    The SDK reports ``task.failed`` with ``retryable: false`` and
    ``error.code = code`` (when given).
    """

    def __init__(self, message: str, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code


class TaskCancelled(Exception):
    """Raised by ``ctx.progress()`` after the supervisor sent ``task.cancel``.

    Reported as ``task.failed`` with ``error.code = "cancelled"`` and
    ``retryable: false`` (the supervisor decided to stop the task).
    """

    code = "cancelled"


class CheckpointTooLargeError(ValueError):
    """``checkpoint()`` state whose JSON exceeds ``welcome.settings.max_checkpoint_bytes``."""

    def __init__(self, size_bytes: int, limit_bytes: int) -> None:
        super().__init__(
            "Checkpoint state is %d bytes of JSON, above the supervisor's limit of %d bytes "
            "(background.protocol.max_checkpoint_bytes). Store less (e.g. ids or offsets "
            "instead of data) or raise the limit." % (size_bytes, limit_bytes))
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes


def _dumps(value: Any) -> str:
    """Strict JSON (no NaN/Infinity, which JavaScript cannot parse). @raises TypeError, ValueError."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _jsonable(value: Any) -> Any:
    """Best-effort conversion of ``value`` to JSON-safe data (for results and log fields)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return repr(value)


class TaskContext:
    """What a task handler (or a ``track()`` block) reports through.

    Constructed by the SDK; ``TaskContext()`` with no agent is a standalone
    context whose calls send nothing, for invoking handlers directly.
    """

    def __init__(self, agent: Optional["Agent"] = None, task_id: str = "local",
                 correlation_id: Optional[str] = None, traceparent: Optional[str] = None,
                 attempt: int = 1) -> None:
        self.task_id = task_id
        self.correlation_id = correlation_id
        self.traceparent = traceparent
        #: The number of this delivery of the task, from 1 (``task.assign``'s ``attempt``).
        #: Delivery is at least once: above 1, an earlier attempt may have done part or
        #: all of the work (it failed, or was stopped by a restart or a supervisor
        #: crash), so make side effects idempotent, keyed on ``task_id``.
        self.attempt = attempt
        #: For ``track()`` blocks: a JSON-serialisable value sent as ``task.finished.result``.
        self.result: Any = None
        self.cancel_reason: Optional[str] = None
        self._agent = agent
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        """True after the supervisor sent ``task.cancel`` for this task."""
        return self._cancelled.is_set()

    @property
    def should_stop(self) -> bool:
        """True when the task was cancelled or the agent is shutting down."""
        return self.cancelled or (self._agent is not None and self._agent.stopping)

    def progress(self, fraction: Optional[float] = None, message: Optional[str] = None) -> None:
        """Report progress (``task.progress``); resets the supervisor's stale-task clock.

        :param fraction: share done, 0.0..1.0, or None when unknown.
        :param message: short human-readable status, truncated to 4096 characters.
        :raises TaskCancelled: the supervisor cancelled this task; let it propagate.
        :raises ValueError: ``fraction`` is outside 0..1.
        """
        if self.cancelled:
            raise TaskCancelled("task %s was cancelled: %s" % (self.task_id, self.cancel_reason))
        msg: Dict[str, Any] = {"type": "task.progress", "task_id": self.task_id}
        if fraction is not None:
            if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) \
                    or not 0.0 <= fraction <= 1.0:
                raise ValueError("Expected progress fraction between 0 and 1, got %r" % (fraction,))
            msg["progress"] = float(fraction)
        if message is not None:
            msg["message"] = str(message)[:_MAX_PROGRESS_MESSAGE_CHARS]
        if self._agent is not None:
            self._agent._send(msg)

    def log(self, level: str, msg: str, **fields: Any) -> None:
        """Like ``Agent.log``, with ``task_id`` and ``correlation_id`` added to the fields."""
        fields.setdefault("task_id", self.task_id)
        if self.correlation_id:
            fields.setdefault("correlation_id", self.correlation_id)
        if self._agent is not None:
            self._agent.log(level, msg, **fields)
        else:
            normalize_level(level)

    def _cancel(self, reason: str) -> None:
        self.cancel_reason = reason
        self._cancelled.set()


def normalize_level(level: str) -> str:
    """Map a level name to the protocol's (``warning`` → ``warn``). @raises ValueError."""
    found = _LEVELS.get(str(level).lower())
    if found is None:
        raise ValueError("Expected log level one of trace, debug, info, warn, error, fatal; got %r" % (level,))
    return found


class Agent:
    """The agent's end of the protocol. Obtain one with ``connect()``."""

    def __init__(self, sock: Optional[socket.socket] = None, capabilities: Sequence[str] = ()) -> None:
        self.capabilities: Tuple[str, ...] = tuple(capabilities)
        #: The checkpoint the supervisor returned in ``welcome`` (last stored state), or None.
        self.restored_state: Any = None
        #: ``welcome.agent``: {name, id, role, replica}; from the environment until welcome.
        self.info: Dict[str, Any] = {
            "name": os.environ.get("AGENTIC_AGENT_NAME"), "id": os.environ.get("AGENTIC_AGENT_ID"),
            "role": os.environ.get("AGENTIC_AGENT_ROLE")}
        #: W3C trace context of the supervisor's start span (env ``TRACEPARENT``), or None.
        self.traceparent: Optional[str] = os.environ.get("TRACEPARENT")
        #: ``welcome.settings`` with defaults applied.
        self.settings: Dict[str, Any] = {"heartbeat_interval_ms": DEFAULT_HEARTBEAT_INTERVAL_MS,
                                         "max_checkpoint_bytes": DEFAULT_MAX_CHECKPOINT_BYTES}
        #: Supervisor lines ignored because they were malformed or of an unknown type.
        self.protocol_errors = 0
        self.shutdown_reason: Optional[str] = None
        self._sock = sock
        self._send_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._welcomed = threading.Event()
        self._closed = threading.Event()
        self._stopping = threading.Event()
        self._tasks: "queue.Queue[Optional[Tuple[Dict[str, Any], Optional[str], Optional[str]]]]" = queue.Queue()
        self._active: Dict[str, TaskContext] = {}
        self._cancelled_early: Dict[str, str] = {}
        self._handler: Optional[Handler] = None
        self._hooks: List[Callable[[], Any]] = []
        self._hooks_lock = threading.Lock()
        self._hooks_ran = False
        self._running = False
        self._welcome_missing = True
        self._signalled = False
        self._signal_handler: Optional[Callable[[int, Any], None]] = None

    # ---- public API ---------------------------------------------------------
    @property
    def connected(self) -> bool:
        """True while a supervisor channel is open (False when standalone)."""
        return self._sock is not None and not self._closed.is_set()

    @property
    def stopping(self) -> bool:
        """True after a ``shutdown`` message or end-of-file."""
        return self._stopping.is_set()

    def on_task(self, handler: Handler) -> Handler:
        """Register the handler for assigned tasks; usable as a decorator.

        ``handler(task, ctx)`` gets the ``task.assign`` task dict ({id, role, title,
        prompt?, payload?, priority, attempt}) and a ``TaskContext``. ``attempt`` (also
        ``ctx.attempt``) numbers the deliveries of the task from 1; a task can be
        delivered more than once, so key side effects on ``id``. Its return
        value (JSON-serialisable) becomes ``task.finished.result``; an exception
        becomes ``task.failed`` (retryable unless ``PermanentTaskError``).
        Returns ``handler`` unchanged, so it can still be called directly.
        """
        self._handler = handler
        return handler

    def on_shutdown(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """Register ``fn()`` to run once on shutdown or end-of-file (last registered runs first)."""
        self._hooks.append(fn)
        return fn

    def run(self) -> None:
        """Process assigned tasks one at a time until shutdown, then run the hooks and return.

        Returns at once when standalone.
        """
        if self._sock is None:
            return
        with self._state_lock:
            self._running = True
        try:
            while not self._stopping.is_set():
                try:
                    item = self._tasks.get(timeout=0.5)
                except queue.Empty:
                    continue
                if item is None or self._stopping.is_set():
                    break
                self._execute(*item)
        finally:
            with self._state_lock:
                self._running = False
        self._run_hooks()
        self._ignore_late_sigterm()

    def _ignore_late_sigterm(self) -> None:
        """After a shutdown, a SIGTERM that comes late must not kill the ending process.

        The supervisor sends ``shutdown`` and SIGTERM together. When the message wins, the
        hooks run, run() returns and the program ends; interpreter shutdown then puts
        Python's own handlers back to SIG_DFL, and a SIGTERM still on its way would end the
        process with -15 after a clean stop. Ignoring it from here is safe: the process is
        ending, and the supervisor's deadline (SIGKILL) still holds.
        """
        if not self._stopping.is_set() or threading.current_thread() is not threading.main_thread():
            return
        try:
            if self._signal_handler is not None and signal.getsignal(signal.SIGTERM) is self._signal_handler:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
        except (ValueError, OSError):
            pass

    @contextlib.contextmanager
    def track(self, name: str, correlation_id: Optional[str] = None) -> Iterator[TaskContext]:
        """Report work the agent started itself: ``task.started`` (with ``name``),
        then ``task.finished`` or ``task.failed``. The exception is re-raised.

        Set ``ctx.result`` inside the block to send a result with ``task.finished``.
        """
        task_id = "%s-%s" % (str(name)[:150], uuid.uuid4().hex[:12])
        ctx = TaskContext(self, task_id, correlation_id=correlation_id, traceparent=self.traceparent)
        started: Dict[str, Any] = {"type": "task.started", "task_id": task_id, "name": str(name)}
        if correlation_id:
            started["correlation_id"] = correlation_id
        begin = self._begin(ctx, started)
        try:
            yield ctx
        except BaseException as exc:
            self._report_failure(ctx, begin, exc)
            raise
        else:
            self._report_success(ctx, begin, ctx.result)

    def checkpoint(self, state: Any) -> None:
        """Store ``state`` with the supervisor; it comes back as ``restored_state`` after a restart.

        :raises TypeError, ValueError: ``state`` is not JSON-serialisable (also standalone).
        :raises CheckpointTooLargeError: (a ValueError) its JSON is over
            ``settings["max_checkpoint_bytes"]`` bytes.
        """
        data = _dumps(state)
        if self._sock is None:
            return
        size, limit = len(data.encode("utf-8")), int(self.settings["max_checkpoint_bytes"])
        if size > limit:
            raise CheckpointTooLargeError(size, limit)
        self._send_line('{"type":"checkpoint","state":%s}\n' % data)

    def report_connectivity(self, target: str, ok: bool, latency_ms: Optional[float] = None,
                            error: Optional[str] = None) -> None:
        """Report the agent's view of a dependency (e.g. ``"llm-api"``).

        :param latency_ms: round-trip time in milliseconds (>= 0), if measured.
        :param error: what went wrong, when ``ok`` is False.
        """
        if not isinstance(target, str) or not target:
            raise ValueError("Expected target to be a non-empty string, got %r" % (target,))
        msg: Dict[str, Any] = {"type": "connectivity", "target": target[:500], "ok": bool(ok)}
        if latency_ms is not None:
            if not isinstance(latency_ms, (int, float)) or not latency_ms >= 0:
                raise ValueError("Expected latency_ms to be a number >= 0, got %r" % (latency_ms,))
            msg["latency_ms"] = float(latency_ms)
        if error is not None:
            msg["error"] = str(error)
        self._send(msg)

    def log(self, level: str, msg: str, **fields: Any) -> None:
        """Send a structured log line (stored with the agent's logs).

        :param level: trace, debug, info, warn (or warning), error, fatal (or critical).
        :raises ValueError: unknown level.
        """
        out: Dict[str, Any] = {"type": "log", "level": normalize_level(level), "msg": str(msg)}
        if fields:
            out["fields"] = fields
        self._send(out)

    # ---- task execution -----------------------------------------------------
    def _execute(self, task: Dict[str, Any], correlation_id: Optional[str], traceparent: Optional[str]) -> None:
        task_id = task["id"]
        attempt = task.get("attempt") if isinstance(task.get("attempt"), int) else 1
        ctx = TaskContext(self, task_id, correlation_id or None, traceparent, attempt)
        with self._state_lock:
            early = self._cancelled_early.pop(task_id, None)
        started: Dict[str, Any] = {"type": "task.started", "task_id": task_id}
        if correlation_id:
            started["correlation_id"] = correlation_id
        begin = self._begin(ctx, started)
        if early is not None:
            ctx._cancel(early)
        try:
            if early is not None:
                raise TaskCancelled("task %s was cancelled before it started: %s" % (task_id, early))
            if self._handler is None:
                raise RuntimeError("no task handler registered: call agent.on_task(handler) before run()")
            result = self._handler(task, ctx)
        except BaseException as exc:  # noqa: B902 -- report, then re-raise what is not an Exception
            self._report_failure(ctx, begin, exc)
            if not isinstance(exc, Exception):
                raise
        else:
            self._report_success(ctx, begin, result)

    def _begin(self, ctx: TaskContext, started: Dict[str, Any]) -> float:
        with self._state_lock:
            self._active[ctx.task_id] = ctx
        self._send(started)
        return time.monotonic()

    def _report_success(self, ctx: TaskContext, begin: float, result: Any) -> None:
        msg: Dict[str, Any] = {"type": "task.finished", "task_id": ctx.task_id, "duration_ms": _elapsed_ms(begin)}
        if result is not None:
            msg["result"] = result
        self._end(ctx, msg)

    def _report_failure(self, ctx: TaskContext, begin: float, exc: BaseException) -> None:
        if isinstance(exc, (PermanentTaskError, TaskCancelled)):
            code, retryable = exc.code, False
        else:
            code, retryable = type(exc).__name__, True
        error: Dict[str, Any] = {"message": str(exc) or type(exc).__name__}
        if code:
            error["code"] = code
        self._end(ctx, {"type": "task.failed", "task_id": ctx.task_id, "duration_ms": _elapsed_ms(begin),
                        "error": error, "retryable": retryable})

    def _end(self, ctx: TaskContext, msg: Dict[str, Any]) -> None:
        with self._state_lock:
            self._active.pop(ctx.task_id, None)
        self._send(msg)

    # ---- channel ------------------------------------------------------------
    def _send(self, msg: Dict[str, Any]) -> None:
        if self._sock is None:
            return
        try:
            line = _dumps(msg)
        except (TypeError, ValueError):
            line = _dumps(_jsonable(msg))  # e.g. a handler result that is not JSON
        self._send_line(line + "\n")

    def _send_line(self, line: str) -> None:
        if not self.connected:
            return
        data = line.encode("utf-8", "surrogatepass")
        try:
            with self._send_lock:
                self._sock.sendall(data)  # type: ignore[union-attr]
        except OSError:
            pass  # the reader sees end-of-file and shuts the agent down

    def _install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT start the same graceful shutdown as the supervisor's message.

        The supervisor stops an agent with a ``shutdown`` message and SIGTERM at the same
        moment; Python's default SIGTERM would end the process before the shutdown hooks
        (the last checkpoint) ran. A second signal exits at once. Handlers the program
        installed itself are left alone, and only the main thread can install them.
        """
        if threading.current_thread() is not threading.main_thread():
            return

        def on_signal(signum: int, _frame: Any) -> None:
            if self._signalled:
                _exit(0)
            self._signalled = True
            if not self._stopping.is_set():
                # Not here: the handler interrupts the main thread, which may hold our locks.
                threading.Thread(target=self._on_shutdown_message, args=(signal.Signals(signum).name,),
                                 name="agentic-signal", daemon=True).start()

        self._signal_handler = on_signal
        for sig in (signal.SIGTERM, signal.SIGINT):
            if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler):
                signal.signal(sig, on_signal)

    def _start(self, timeout_s: float) -> None:
        self._install_signal_handlers()
        self._send({"type": "hello", "protocol": PROTOCOL_VERSION, "pid": os.getpid(),
                    "sdk": {"name": SDK_NAME, "version": __version__}, "capabilities": list(self.capabilities)})
        threading.Thread(target=self._read_loop, name="agentic-reader", daemon=True).start()
        fd = self._sock.fileno()  # type: ignore[union-attr]
        if not self._welcomed.wait(timeout_s):
            self._sock.close()  # type: ignore[union-attr]
            raise TimeoutError("No welcome from the supervisor within %.1f s after hello on fd %d. "
                               "Check that the supervisor speaks agent protocol v1." % (timeout_s, fd))
        if self._welcome_missing:
            raise ConnectionError("The supervisor closed the protocol channel (fd %d) before sending "
                                  "welcome; it probably exited. Restart the agent under the supervisor." % fd)

    def _read_loop(self) -> None:
        buf = bytearray()
        discarding = False
        while True:
            try:
                chunk = self._sock.recv(65536)  # type: ignore[union-attr]
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            while True:
                nl = buf.find(b"\n")
                if nl < 0:
                    break
                line = bytes(buf[:nl])
                del buf[:nl + 1]
                if discarding:
                    discarding = False
                    self._malformed("oversize", "line longer than %d bytes" % MAX_LINE_BYTES)
                elif line.strip():
                    self._handle_line(line)
            if len(buf) > MAX_LINE_BYTES:
                buf.clear()
                discarding = True
        self._on_eof()

    def _handle_line(self, line: bytes) -> None:
        try:
            msg = json.loads(line.decode("utf-8"))
        except ValueError as exc:
            return self._malformed("not_json", str(exc))
        if not isinstance(msg, dict):
            return self._malformed("not_object", "expected a JSON object, got %s" % type(msg).__name__)
        try:
            self._dispatch(msg)
        except Exception as exc:  # a bad field must never kill the reader thread
            self._malformed("invalid", "%s: %r" % (msg.get("type"), exc))

    def _dispatch(self, msg: Dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "ping":
            if isinstance(msg.get("id"), bool) or not isinstance(msg.get("id"), (int, float)):
                return self._malformed("invalid", "ping without a numeric id")
            self._send({"type": "pong", "id": msg["id"]})
        elif kind == "welcome":
            self._on_welcome(msg)
        elif kind == "task.assign":
            task = msg.get("task")
            if not isinstance(task, dict) or not isinstance(task.get("id"), str) or not task["id"]:
                return self._malformed("invalid", "task.assign without task.id")
            corr, tp = msg.get("correlation_id"), msg.get("traceparent")
            self._tasks.put((task, corr if isinstance(corr, str) else None, tp if isinstance(tp, str) else None))
        elif kind == "task.cancel":
            task_id, reason = msg.get("task_id"), str(msg.get("reason") or "cancelled")
            if not isinstance(task_id, str):
                return self._malformed("invalid", "task.cancel without task_id")
            with self._state_lock:
                ctx = self._active.get(task_id)
                if ctx is None:
                    self._cancelled_early[task_id] = reason
            if ctx is not None:
                ctx._cancel(reason)
        elif kind == "shutdown":
            self._on_shutdown_message(str(msg.get("reason") or "shutdown"))
        else:
            self.protocol_errors += 1  # unknown types are ignored quietly (newer supervisor)

    def _on_welcome(self, msg: Dict[str, Any]) -> None:
        settings = msg.get("settings") if isinstance(msg.get("settings"), dict) else {}
        for key in ("heartbeat_interval_ms", "max_checkpoint_bytes"):
            value = settings.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                self.settings[key] = value
        if isinstance(msg.get("agent"), dict):
            self.info.update(msg["agent"])
        self.restored_state = msg.get("checkpoint")
        first = self._welcome_missing
        self._welcome_missing = False
        self._welcomed.set()
        if first:
            interval_s = max(0.01, float(self.settings["heartbeat_interval_ms"]) / 1000.0)
            threading.Thread(target=self._heartbeat_loop, args=(interval_s,),
                             name="agentic-heartbeat", daemon=True).start()

    def _heartbeat_loop(self, interval_s: float) -> None:
        """Sends ``heartbeat`` now and every ``interval_s`` seconds until end-of-file."""
        self._send({"type": "heartbeat"})
        while not self._closed.wait(interval_s):
            self._send({"type": "heartbeat"})

    def _on_shutdown_message(self, reason: str) -> None:
        self.shutdown_reason = reason
        with self._state_lock:
            self._stopping.set()
            running = self._running
        if running:
            self._tasks.put(None)  # wake run(); it runs the hooks and returns
        else:
            self._run_hooks()
            _exit(0)

    def _on_eof(self) -> None:
        self._closed.set()
        self._stopping.set()
        if self._welcome_missing:
            self._welcomed.set()  # wake connect(), which raises ConnectionError
            return
        self.shutdown_reason = self.shutdown_reason or "supervisor closed the protocol channel"
        self._run_hooks()
        _exit(0)

    def _malformed(self, reason: str, detail: str) -> None:
        self.protocol_errors += 1
        _stderr("agentic_agent: ignored a %s line from the supervisor: %s" % (reason, detail[:200]))

    def _run_hooks(self) -> None:
        with self._hooks_lock:
            if self._hooks_ran:
                return
            self._hooks_ran = True
            for fn in reversed(self._hooks):
                try:
                    fn()
                except Exception:
                    _stderr("agentic_agent: a shutdown hook failed:\n" + traceback.format_exc())


def _elapsed_ms(begin: float) -> float:
    return round((time.monotonic() - begin) * 1000.0, 3)


def _stderr(text: str) -> None:
    try:
        sys.stderr.write(text.rstrip("\n") + "\n")
        sys.stderr.flush()
    except Exception:
        pass


def _exit(status: int) -> None:
    """Exit the whole process from any thread, after flushing stdout and stderr."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(status)


_agent: Optional[Agent] = None
_agent_lock = threading.Lock()


def connect(capabilities: Sequence[str] = ("tasks", "checkpoint"), timeout: float = 10.0) -> Agent:
    """Open the protocol channel, send ``hello`` and wait for ``welcome``.

    Idempotent: later calls return the same ``Agent``. Without
    ``AGENTIC_PROTOCOL_FD`` the returned agent is standalone (all calls no-ops).

    :param capabilities: announced in ``hello``; ``"tasks"`` lets the supervisor assign queued tasks.
    :param timeout: seconds to wait for ``welcome``.
    :raises TimeoutError: no welcome within ``timeout`` seconds.
    :raises ConnectionError: the channel closed before welcome.
    :raises ValueError, OSError: ``AGENTIC_PROTOCOL_FD`` is not an open socket's fd number.
    """
    global _agent
    with _agent_lock:
        if _agent is not None:
            return _agent
        raw = os.environ.get(ENV_PROTOCOL_FD, "").strip()
        if not raw:
            _agent = Agent(None, capabilities)
            return _agent
        try:
            fd = int(raw)
        except ValueError:
            raise ValueError("Expected %s to be a file descriptor number, got %r; unset it to run "
                             "standalone." % (ENV_PROTOCOL_FD, raw)) from None
        try:
            sock = socket.socket(fileno=fd)
        except OSError as exc:
            raise OSError("%s=%d is not an open socket (%s). Start the agent under the supervisor, "
                          "or unset the variable to run standalone." % (ENV_PROTOCOL_FD, fd, exc)) from exc
        sock.setblocking(True)
        sock.set_inheritable(False)  # child processes must not keep the channel open
        os.environ.pop(ENV_PROTOCOL_FD, None)  # nor try to speak on a closed fd
        agent = Agent(sock, capabilities)
        agent._start(timeout)
        _agent = agent
        return agent
