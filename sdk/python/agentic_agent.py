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
and returns. A task still running at the message's ``deadline_ms`` (less a small
margin) is reported ``task.failed`` (code ``SHUTDOWN``, retryable) and the process
exits 0, so the agent always ends within the deadline. If ``run()`` is not active,
the hooks run and the process exits with status 0. On end-of-file (the supervisor
is gone) the hooks run and the process exits with status 0 at once, even mid-task.

Also: ``agent.get_meter()`` (OpenTelemetry-shaped counters, up-down counters and
histograms, sent as ``metrics`` messages to the supervisor's /metrics),
``agent.probe()``, ``ctx.logger`` (JSON logs carrying ``trace_id``),
``ctx.retry()`` (backoff), and ``agent.name`` / ``id`` / ``role`` / ``replica``.

Without ``AGENTIC_PROTOCOL_FD`` the agent runs standalone: every protocol call
is a no-op, ``run()`` returns at once, and a handler can be called directly as
``handle(task, TaskContext())``.
"""
from __future__ import annotations

import bisect
import hashlib
import contextlib
import json
import logging
import math
import os
import queue
import random
import re
import signal
import socket
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
import warnings
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Mapping, MutableMapping, Optional,
                    Sequence, Set, Tuple, Type, TypeVar)

__all__ = [
    "Agent", "CheckpointTooLargeError", "Counter", "Histogram", "Meter", "PermanentTaskError",
    "TaskCancelled", "TaskContext", "UpDownCounter", "connect", "get_meter", "PROTOCOL_VERSION",
    "SDK_NAME", "__version__",
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

#: Default milliseconds between two ``metrics`` messages (as the Node SDK).
DEFAULT_METRICS_INTERVAL_MS = 10000
#: Default time the hooks get after SIGTERM or SIGINT, in milliseconds (as the Node SDK).
DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000
#: Longest line the supervisor reads unless ``welcome.settings.max_line_bytes`` says otherwise.
DEFAULT_SUPERVISOR_MAX_LINE_BYTES = 1024 * 1024
#: OpenTelemetry's default explicit bucket boundaries for a histogram.
DEFAULT_HISTOGRAM_BOUNDARIES: Tuple[float, ...] = (
    0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0, 10000.0)

Handler = Callable[[Dict[str, Any], "TaskContext"], Any]
T = TypeVar("T")
Attributes = Optional[Mapping[str, Any]]


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


def _canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same value gives the same text."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        return json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)


def _step_digest(value: Any) -> str:
    return hashlib.sha256(_canonical_json(value).encode("utf-8")).hexdigest()


def _step_summary(value: Any) -> Optional[str]:
    """A short human form of a step's input: a string itself, a dict's scalar values, else its JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict):
        scalars = [v for v in value.values() if isinstance(v, (str, int, float, bool))]
        text = " ".join("true" if v is True else "false" if v is False else str(v) for v in scalars) if scalars \
            else _canonical_json(value)
    else:
        text = _canonical_json(value)
    line = " ".join(text.split())
    if not line:
        return None
    return line if len(line) <= 80 else line[:79] + "\u2026"


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
        #: Whether ``step()`` reports steps: an assigned task, on a supervisor that watches them.
        self._report_steps = False
        self._agent = agent
        self._cancelled = threading.Event()
        #: The task's trace id (32 hex digits): from ``traceparent``, else the correlation id.
        self.trace_id: Optional[str] = _trace_id_of(traceparent) or correlation_id
        fields: Dict[str, Any] = dict(agent._identity_fields()) if agent is not None else {}
        fields["task_id"] = task_id
        if correlation_id:
            fields["correlation_id"] = correlation_id
        if self.trace_id:
            fields["trace_id"] = self.trace_id
        #: A ``logging`` logger for this task: JSON lines on stdout carrying agent, agent_id,
        #: role, replica, task_id, correlation_id and trace_id (the Node SDK's ``ctx.log``).
        self.logger: logging.LoggerAdapter[logging.Logger] = _FieldsAdapter(agent_logger(), fields)

    @property
    def cancelled(self) -> bool:
        """True after the supervisor sent ``task.cancel`` for this task.

        A handler that does not call ``progress()`` often should poll this (or
        ``should_stop``) and return or raise ``TaskCancelled``; the supervisor has
        already freed the agent for its next task when it sends ``task.cancel``.
        """
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

    def step(self, name: str, input: Any = None, output: Any = None) -> None:
        """Report one step of the work once it returned (``task.step``): the tool or action
        ``name``, its ``input`` and its ``output``. Only SHA-256 digests of their canonical
        JSON leave the process, with a short summary of the input for diagnoses.

        The supervisor's tool-loop detection (``health_checks.llm_progress``) ends the task
        when the same step gives the same output ``max_repeats`` times within its window
        ("called read_file note.txt 5 times in 40 s ..."): it sends ``task.cancel``, so
        ``ctx.cancelled`` turns true and the next ``progress()`` raises ``TaskCancelled``. A
        step whose output changes (a build polled until it is done) is never a loop. Sends
        nothing when the supervisor does not watch steps, and in ``track()`` blocks.
        """
        if not self._report_steps or self._agent is None:
            return
        msg: Dict[str, Any] = {"type": "task.step", "task_id": self.task_id, "name": (str(name).strip() or "step")[:200],
                               "input_digest": _step_digest(input), "output_digest": _step_digest(output)}
        summary = _step_summary(input)
        if summary:
            msg["summary"] = summary
        self._agent._send(msg)

    def retry(self, fn: Callable[[], T], attempts: int = 3, initial_delay_ms: float = 500.0,
              max_delay_ms: float = 30000.0, multiplier: float = 2.0, jitter: float = 0.2,
              retry_on: Tuple[Type[BaseException], ...] = (Exception,)) -> T:
        """Call ``fn()`` up to ``attempts`` times, backing off exponentially between tries.

        For transient errors inside a task (an LLM API's 429, a flaky network): the n-th
        wait is ``min(max_delay_ms, initial_delay_ms * multiplier ** (n - 1))``, varied by
        ``± jitter`` (a share), reported as ``task.progress`` so the stale-task check sees
        the task is alive. ``PermanentTaskError`` and ``TaskCancelled`` are never retried;
        a cancel or a shutdown during a wait ends it at once.

        :returns: what ``fn()`` returned.
        :raises: the last error once ``attempts`` are used up; ``TaskCancelled`` when the
            task was cancelled during a wait.
        :raises ValueError: ``attempts`` < 1 or a negative delay.
        """
        if attempts < 1 or initial_delay_ms < 0 or max_delay_ms < 0 or multiplier < 1 or not 0 <= jitter < 1:
            raise ValueError("Expected attempts >= 1, delays >= 0, multiplier >= 1 and 0 <= jitter < 1; got "
                             "attempts=%r initial_delay_ms=%r max_delay_ms=%r multiplier=%r jitter=%r"
                             % (attempts, initial_delay_ms, max_delay_ms, multiplier, jitter))
        for n in range(1, attempts + 1):
            try:
                return fn()
            except (PermanentTaskError, TaskCancelled):
                raise
            except retry_on as exc:
                if n >= attempts or self.should_stop:
                    raise
                delay_ms = min(max_delay_ms, initial_delay_ms * multiplier ** (n - 1))
                delay_ms *= 1 + random.uniform(-jitter, jitter)
                self.progress(None, "retry %d of %d in %.0f ms after %s: %s"
                              % (n, attempts - 1, delay_ms, type(exc).__name__, str(exc)[:200]))
                if self._cancelled.wait(delay_ms / 1000.0):
                    raise TaskCancelled("task %s was cancelled: %s" % (self.task_id, self.cancel_reason))
        raise AssertionError("unreachable")

    def log(self, level: str, msg: str, **fields: Any) -> None:
        """A protocol ``log`` line (stored with the agent's logs by the supervisor), with
        ``task_id``, ``correlation_id`` and ``trace_id`` added to the fields.

        For ordinary logging to stdout (also captured), use ``ctx.logger``.
        """
        fields.setdefault("task_id", self.task_id)
        if self.correlation_id:
            fields.setdefault("correlation_id", self.correlation_id)
        if self.trace_id:
            fields.setdefault("trace_id", self.trace_id)
        if self._agent is not None:
            self._agent.log(level, msg, **fields)
        else:
            normalize_level(level)

    def _cancel(self, reason: str) -> None:
        self.cancel_reason = reason
        self._cancelled.set()


_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_./-]{0,254}$")
_MAX_ATTRIBUTES = 32


def _attr_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return _dumps([_jsonable(v) for v in value])
    return str(value)


def _attr_key(attributes: Attributes) -> Tuple[Tuple[str, str], ...]:
    """Attributes as a sorted tuple of (key, text): what identifies a series (protocol limits applied)."""
    if not attributes:
        return ()
    items = sorted((str(k)[:128], _attr_text(v)[:1024]) for k, v in attributes.items() if str(k))
    return tuple(items[:_MAX_ATTRIBUTES])


class _Instrument:
    kind = "counter"

    def __init__(self, meter: "Meter", name: str, unit: str, description: str) -> None:
        self.name = name
        self.unit = unit[:63]
        self.description = description[:1024]
        self._meter = meter
        self._lock = threading.Lock()
        self._values: Dict[Tuple[Tuple[str, str], ...], Any] = {}

    def _check(self, value: float, what: str) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self._meter._warn_once("%s %s: expected a finite number, got %r; ignored" % (what, self.name, value))
            return False
        return True

    def _points(self) -> List[Dict[str, Any]]:
        with self._lock:
            items = list(self._values.items())
        out = []
        for key, value in items:
            point: Dict[str, Any] = {"value": value}
            if key:
                point["attributes"] = dict(key)
            out.append(point)
        return out


class Counter(_Instrument):
    """A monotonic sum (OpenTelemetry's Counter): on /metrics as ``<name>_total``."""

    kind = "counter"

    def add(self, amount: float, attributes: Attributes = None) -> None:
        """Add ``amount`` (>= 0; a negative amount is ignored with a warning, as OpenTelemetry does)."""
        if not self._check(amount, "counter"):
            return
        if amount < 0:
            self._meter._warn_once("counter %s: a negative amount (%r) is ignored; use an up-down counter"
                                   % (self.name, amount))
            return
        key = _attr_key(attributes)
        with self._lock:
            self._values[key] = self._values.get(key, 0) + amount


class UpDownCounter(_Instrument):
    """A sum that goes up and down (OpenTelemetry's UpDownCounter): a gauge on /metrics."""

    kind = "gauge"

    def add(self, amount: float, attributes: Attributes = None) -> None:
        """Add ``amount`` (any finite number, negative to go down)."""
        if not self._check(amount, "up-down counter"):
            return
        key = _attr_key(attributes)
        with self._lock:
            self._values[key] = self._values.get(key, 0) + amount


class Histogram(_Instrument):
    """A distribution with explicit buckets (OpenTelemetry's Histogram)."""

    kind = "histogram"

    def __init__(self, meter: "Meter", name: str, unit: str, description: str,
                 boundaries: Sequence[float]) -> None:
        super().__init__(meter, name, unit, description)
        bounds = [float(b) for b in boundaries]
        if len(bounds) > 64 or any(not math.isfinite(b) for b in bounds) \
                or any(b <= a for a, b in zip(bounds, bounds[1:])):
            raise ValueError("Expected at most 64 finite, increasing bucket boundaries for histogram %s, got %r"
                             % (name, list(boundaries)))
        self.boundaries: Tuple[float, ...] = tuple(bounds)

    def record(self, value: float, attributes: Attributes = None) -> None:
        """Record one observation; bucket boundaries are inclusive upper bounds."""
        if not self._check(value, "histogram"):
            return
        key = _attr_key(attributes)
        index = bisect.bisect_left(self.boundaries, value)
        with self._lock:
            state = self._values.get(key)
            if state is None:
                state = self._values[key] = [0, 0.0, [0] * (len(self.boundaries) + 1)]
            state[0] += 1
            state[1] += value
            state[2][index] += 1

    def _points(self) -> List[Dict[str, Any]]:
        with self._lock:
            items = [(k, (v[0], v[1], list(v[2]))) for k, v in self._values.items()]
        out = []
        for key, (count, total, counts) in items:
            point: Dict[str, Any] = {"count": count, "sum": total,
                                     "buckets": {"boundaries": list(self.boundaries), "counts": counts}}
            if key:
                point["attributes"] = dict(key)
            out.append(point)
        return out


class Meter:
    """Creates instruments, as OpenTelemetry's Meter does. Get one with ``get_meter()``.

    Asking twice for an instrument of the same name returns the first one (its kind
    must match). Names follow OpenTelemetry's rule: a letter, then up to 254 of
    letters, digits, ``_ . / -``.
    """

    def __init__(self, agent: Optional["Agent"], name: str, version: Optional[str] = None) -> None:
        self.name = name
        self.version = version
        self._agent = agent
        self._lock = threading.Lock()
        self._by_name: Dict[str, _Instrument] = {}
        self._warned: Set[str] = set()

    def create_counter(self, name: str, unit: str = "", description: str = "") -> Counter:
        return self._create(Counter, name, unit, description)

    def create_up_down_counter(self, name: str, unit: str = "", description: str = "") -> UpDownCounter:
        return self._create(UpDownCounter, name, unit, description)

    def create_histogram(self, name: str, unit: str = "", description: str = "",
                         explicit_bucket_boundaries_advisory: Optional[Sequence[float]] = None) -> Histogram:
        """:param explicit_bucket_boundaries_advisory: bucket upper bounds (default OpenTelemetry's)."""
        bounds = DEFAULT_HISTOGRAM_BOUNDARIES if explicit_bucket_boundaries_advisory is None \
            else explicit_bucket_boundaries_advisory
        with self._lock:
            found = self._existing(name, Histogram)
            if found is not None:
                return found
            inst = Histogram(self, name, unit, description, bounds)
            self._by_name[name] = inst
            return inst

    def _create(self, cls: "type[_I]", name: str, unit: str, description: str) -> "_I":
        with self._lock:
            found = self._existing(name, cls)
            if found is not None:
                return found
            inst = cls(self, name, unit, description)
            self._by_name[name] = inst
            return inst

    def _existing(self, name: str, cls: "type[_I]") -> "Optional[_I]":
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError("Expected an instrument name of a letter then up to 254 letters, digits, "
                             "'_', '.', '/' or '-', got %r" % (name,))
        found = self._by_name.get(name)
        if found is None:
            return None
        if not isinstance(found, cls) or type(found) is not cls:
            raise ValueError("Instrument %r already exists as a %s, not a %s"
                             % (name, type(found).__name__, cls.__name__))
        return found

    def _instruments(self) -> List[_Instrument]:
        with self._lock:
            return list(self._by_name.values())

    def _warn_once(self, text: str) -> None:
        if text not in self._warned:
            self._warned.add(text)
            _stderr("agentic_agent: " + text)


_I = TypeVar("_I", bound=_Instrument)

if TYPE_CHECKING:
    _AdapterBase = logging.LoggerAdapter[logging.Logger]
else:
    _AdapterBase = logging.LoggerAdapter


class _FieldsAdapter(_AdapterBase):
    """Adds fixed fields (agent, task_id, trace_id…) to every record; ``extra=`` adds more."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> Tuple[Any, MutableMapping[str, Any]]:
        fields = dict(self.extra or {})
        fields.update(kwargs.pop("extra", None) or {})
        kwargs["extra"] = {"agentic_fields": fields}
        return msg, kwargs


class _JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ms since the epoch), level, msg, then the fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: Dict[str, Any] = {"time": int(record.created * 1000), "level": _PY_LEVELS.get(record.levelno, "info"),
                                "msg": record.getMessage()}
        line.update(getattr(record, "agentic_fields", {}) or {})
        if record.exc_info:
            line["err"] = self.formatException(record.exc_info)
        try:
            return _dumps(line)
        except (TypeError, ValueError):
            return _dumps(_jsonable(line))


_PY_LEVELS = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn", logging.ERROR: "error",
              logging.CRITICAL: "fatal"}
_logger_lock = threading.Lock()


def agent_logger() -> logging.Logger:
    """The SDK's ``logging`` logger (``agentic_agent``): JSON lines on stdout, level from ``LOG_LEVEL``.

    Configured once, on first use, unless the program gave it handlers itself.
    """
    logger = logging.getLogger("agentic_agent")
    with _logger_lock:
        if not logger.handlers:
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(_JsonFormatter())
            logger.addHandler(handler)
            logger.propagate = False
            level = os.environ.get("LOG_LEVEL", "info").lower()
            logger.setLevel({"trace": logging.DEBUG, "debug": logging.DEBUG, "warn": logging.WARNING,
                             "warning": logging.WARNING, "error": logging.ERROR,
                             "fatal": logging.CRITICAL}.get(level, logging.INFO))
    return logger


def _trace_id_of(traceparent: Optional[str]) -> Optional[str]:
    """The trace id of a W3C ``traceparent`` (``00-<32 hex>-<16 hex>-<2 hex>``), or None."""
    if not traceparent:
        return None
    parts = traceparent.split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def normalize_level(level: str) -> str:
    """Map a level name to the protocol's (``warning`` → ``warn``). @raises ValueError."""
    found = _LEVELS.get(str(level).lower())
    if found is None:
        raise ValueError("Expected log level one of trace, debug, info, warn, error, fatal; got %r" % (level,))
    return found


class Agent:
    """The agent's end of the protocol. Obtain one with ``connect()``."""

    def __init__(self, sock: Optional[socket.socket] = None, capabilities: Sequence[str] = (),
                 metrics: bool = True, metrics_interval_ms: float = DEFAULT_METRICS_INTERVAL_MS,
                 shutdown_timeout_ms: float = DEFAULT_SHUTDOWN_TIMEOUT_MS,
                 name: Optional[str] = None, role: Optional[str] = None) -> None:
        caps = list(capabilities)
        if metrics and sock is not None and "metrics" not in caps:
            caps.append("metrics")
        self.capabilities: Tuple[str, ...] = tuple(caps)
        self._metrics_enabled = metrics
        self._metrics_interval_s = max(0.01, float(metrics_interval_ms) / 1000.0)
        self._shutdown_timeout_ms = float(shutdown_timeout_ms)
        self._meters: Dict[Tuple[str, Optional[str]], Meter] = {}
        self._meters_lock = threading.Lock()
        self._metrics_warned: Set[str] = set()
        #: The checkpoint the supervisor returned in ``welcome`` (last stored state), or None.
        self.restored_state: Any = None
        #: ``welcome.agent``: {name, id, role, replica}; from the environment until welcome.
        #: Deprecated: use ``name``, ``id``, ``role`` and ``replica``.
        env_name = os.environ.get("AGENTIC_AGENT_NAME") or name or "agent"
        self.info: Dict[str, Any] = {
            "name": env_name, "id": os.environ.get("AGENTIC_AGENT_ID") or env_name,
            "role": os.environ.get("AGENTIC_AGENT_ROLE") or role or env_name, "replica": 0}
        #: W3C trace context of the supervisor's start span (env ``TRACEPARENT``), or None.
        self.traceparent: Optional[str] = os.environ.get("TRACEPARENT")
        #: ``welcome.settings`` with defaults applied.
        self.settings: Dict[str, Any] = {"heartbeat_interval_ms": DEFAULT_HEARTBEAT_INTERVAL_MS,
                                         "max_checkpoint_bytes": DEFAULT_MAX_CHECKPOINT_BYTES,
                                         "max_line_bytes": DEFAULT_SUPERVISOR_MAX_LINE_BYTES}
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
    def name(self) -> str:
        """The configured agent name (``welcome.agent.name``, else ``AGENTIC_AGENT_NAME``, else ``name=``)."""
        return str(self.info.get("name"))

    @property
    def id(self) -> str:
        """The replica slot, e.g. ``qaa-0`` (``welcome.agent.id``, else ``AGENTIC_AGENT_ID``)."""
        return str(self.info.get("id"))

    @property
    def role(self) -> str:
        """The agent's role (``welcome.agent.role``, else ``AGENTIC_AGENT_ROLE``, else ``role=``, else the name)."""
        return str(self.info.get("role"))

    @property
    def replica(self) -> int:
        """The replica index, from 0 (``welcome.agent.replica``; 0 standalone)."""
        value = self.info.get("replica")
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    @property
    def logger(self) -> logging.LoggerAdapter[logging.Logger]:
        """A ``logging`` logger writing JSON lines to stdout with agent, agent_id, role and replica.

        Level from ``LOG_LEVEL`` (default info). Per task, use ``ctx.logger``.
        """
        return _FieldsAdapter(agent_logger(), self._identity_fields())

    def _identity_fields(self) -> Dict[str, Any]:
        return {"agent": self.name, "agent_id": self.id, "role": self.role, "replica": self.replica}

    def get_meter(self, name: str, version: Optional[str] = None) -> "Meter":
        """A meter (OpenTelemetry's shape) whose instruments reach the supervisor's /metrics.

        Values are sent every ``metrics_interval_ms`` and once more at shutdown, as the
        protocol ``metrics`` message (docs/protocol.md); the supervisor serves them with
        the process's ``agent``, ``role`` and ``replica`` labels, as it does the Node SDK's.
        The same (name, version) gives the same meter.
        """
        key = (str(name), version)
        with self._meters_lock:
            meter = self._meters.get(key)
            if meter is None:
                meter = self._meters[key] = Meter(self, str(name), version)
            return meter

    def probe(self, target: str, url: str, timeout_ms: float = 5000) -> Dict[str, Any]:
        """Check a dependency and report it as ``connectivity``; never raises.

        ``url`` is ``http(s)://…`` (a GET: any status below 500 is reachable) or
        ``tcp://host:port`` (a TCP connect).

        :returns: ``{"ok": bool, "latency_ms": float, "error"?: str}``.
        """
        begin = time.monotonic()
        error: Optional[str] = None
        try:
            parsed = urllib.parse.urlsplit(url)
            if parsed.scheme == "tcp":
                if not parsed.hostname or not parsed.port:
                    raise ValueError("expected tcp://host:port, got %r" % url)
                socket.create_connection((parsed.hostname, parsed.port), timeout=timeout_ms / 1000.0).close()
            elif parsed.scheme in ("http", "https"):
                try:
                    with urllib.request.urlopen(urllib.request.Request(url, method="GET"),  # noqa: S310
                                                timeout=timeout_ms / 1000.0) as resp:
                        resp.read(0)
                except urllib.error.HTTPError as exc:
                    if exc.code >= 500:
                        error = "HTTP %d" % exc.code
            else:
                raise ValueError("expected an http(s):// or tcp:// URL, got %r" % url)
        except Exception as exc:  # a probe reports, it never raises
            reason = getattr(exc, "reason", None)
            error = str(reason if reason is not None else exc) or type(exc).__name__
        latency_ms = round((time.monotonic() - begin) * 1000.0, 3)
        try:
            self.report_connectivity(target, error is None, latency_ms=latency_ms, error=error)
        except ValueError as exc:
            error = error or str(exc)
        out: Dict[str, Any] = {"ok": error is None, "latency_ms": latency_ms}
        if error is not None:
            out["error"] = error
        return out

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
        raw_attempt = task.get("attempt")
        attempt = raw_attempt if isinstance(raw_attempt, int) and not isinstance(raw_attempt, bool) else 1
        ctx = TaskContext(self, task_id, correlation_id or None, traceparent, attempt)
        ctx._report_steps = self.settings.get("task_steps") is True
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

    def _start(self, timeout_s: float, handle_signals: bool = True) -> None:
        if handle_signals:
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
            deadline = msg.get("deadline_ms")
            limit: Optional[float] = None
            if isinstance(deadline, (int, float)) and not isinstance(deadline, bool) and deadline >= 0:
                limit = float(deadline)
            self._on_shutdown_message(str(msg.get("reason") or "shutdown"), limit)
        else:
            self.protocol_errors += 1  # unknown types are ignored quietly (newer supervisor)

    def _on_welcome(self, msg: Dict[str, Any]) -> None:
        raw_settings = msg.get("settings")
        settings: Dict[str, Any] = raw_settings if isinstance(raw_settings, dict) else {}
        for key in ("heartbeat_interval_ms", "max_checkpoint_bytes", "max_line_bytes"):
            value = settings.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                self.settings[key] = value
        # True: the supervisor watches task.step for tool loops (ctx.step() reports them).
        self.settings["task_steps"] = settings.get("task_steps") is True
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
            if self._metrics_enabled:
                threading.Thread(target=self._metrics_loop, name="agentic-metrics", daemon=True).start()

    def _heartbeat_loop(self, interval_s: float) -> None:
        """Sends ``heartbeat`` now and every ``interval_s`` seconds until end-of-file."""
        self._send({"type": "heartbeat"})
        while not self._closed.wait(interval_s):
            self._send({"type": "heartbeat"})

    def _metrics_loop(self) -> None:
        """Sends the cumulative ``metrics`` every interval while connected (none before an instrument exists)."""
        while not self._closed.wait(self._metrics_interval_s):
            self._send_metrics()

    def _send_metrics(self) -> None:
        payload = self._collect_metrics()
        if payload is not None:
            self._send({"type": "metrics", "resource_metrics": payload})

    def _collect_metrics(self) -> Optional[Dict[str, Any]]:
        """The v1 ``resource_metrics`` of every instrument, cut to fit ``max_line_bytes``; None without instruments."""
        with self._meters_lock:
            meters = list(self._meters.values())
        budget = int(self.settings.get("max_line_bytes") or DEFAULT_SUPERVISOR_MAX_LINE_BYTES) - 256
        used, dropped, scopes, any_instrument = 0, 0, [], False
        for meter in meters:
            metrics_out = []
            for inst in meter._instruments():
                any_instrument = True
                points = []
                for point in inst._points():
                    size = len(_dumps(point)) + 1
                    if used + size > budget:
                        dropped += 1
                        continue
                    used += size
                    points.append(point)
                if points:
                    m: Dict[str, Any] = {"name": inst.name, "kind": inst.kind, "points": points}
                    if inst.description:
                        m["description"] = inst.description
                    if inst.unit:
                        m["unit"] = inst.unit
                    used += len(inst.name) + len(inst.description) + len(inst.unit) + 48
                    metrics_out.append(m)
            if metrics_out:
                scope: Dict[str, Any] = {"name": meter.name}
                if meter.version:
                    scope["version"] = meter.version
                scopes.append({"scope": scope, "metrics": metrics_out})
        if not any_instrument:
            return None
        if dropped and "dropped" not in self._metrics_warned:
            self._metrics_warned.add("dropped")
            _stderr("agentic_agent: %d metric series left out to keep the metrics line under %d bytes"
                    % (dropped, budget + 256))
        out: Dict[str, Any] = {"version": 1, "scope_metrics": scopes}
        if dropped:
            out["dropped_series"] = dropped
        return out

    def _on_shutdown_message(self, reason: str, deadline_ms: Optional[float] = None) -> None:
        """A ``shutdown`` (or a signal): stop taking tasks, and make sure the process ends in time.

        The current task may finish if it can; at the deadline (``deadline_ms`` of the
        message, ``shutdown_timeout_ms`` for a signal) minus a small margin, a task still
        running is reported ``task.failed`` (code ``SHUTDOWN``, retryable: the supervisor
        gives it back to the queue), the hooks run if they have not, and the process exits 0.
        """
        budget_ms = self._shutdown_timeout_ms if deadline_ms is None else float(deadline_ms)
        margin_ms = min(250.0, budget_ms / 10.0)
        threading.Thread(target=self._shutdown_watchdog, args=(max(0.0, budget_ms - margin_ms) / 1000.0,),
                         name="agentic-shutdown-deadline", daemon=True).start()
        self.shutdown_reason = reason
        with self._state_lock:
            self._stopping.set()
            running = self._running
        if running:
            self._tasks.put(None)  # wake run(); it runs the hooks and returns
        else:
            self._run_hooks()
            _exit(0)

    def _shutdown_watchdog(self, seconds: float) -> None:
        time.sleep(seconds)
        with self._state_lock:
            active = list(self._active.values())
        for ctx in active:
            ctx._cancel("shutdown deadline")
            self._end(ctx, {"type": "task.failed", "task_id": ctx.task_id, "duration_ms": 0,
                            "error": {"message": "the agent was shutting down and the deadline came",
                                      "code": "SHUTDOWN"}, "retryable": True})
        if self._hooks_lock.acquire(blocking=False):  # hooks already running elsewhere: do not wait for them
            self._hooks_lock.release()
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
            if self._metrics_enabled:
                self._send_metrics()  # the last values, after the hooks recorded theirs


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


def connect(capabilities: Sequence[str] = ("tasks", "checkpoint"), timeout: Optional[float] = None, *,
            welcome_timeout_ms: float = 10000, metrics: bool = True,
            metrics_interval_ms: float = DEFAULT_METRICS_INTERVAL_MS, handle_signals: bool = True,
            shutdown_timeout_ms: float = DEFAULT_SHUTDOWN_TIMEOUT_MS, name: Optional[str] = None,
            role: Optional[str] = None) -> Agent:
    """Open the protocol channel, send ``hello`` and wait for ``welcome``.

    Idempotent: later calls return the same ``Agent``. Without
    ``AGENTIC_PROTOCOL_FD`` the returned agent is standalone (all calls no-ops).
    The options have the Node SDK's names, in snake case.

    :param capabilities: announced in ``hello``; ``"tasks"`` lets the supervisor assign
        queued tasks. ``"metrics"`` is added when ``metrics`` is true.
    :param welcome_timeout_ms: how long to wait for ``welcome`` (default 10000).
    :param timeout: deprecated: ``welcome_timeout_ms`` in seconds.
    :param metrics: send the instruments of ``get_meter()`` to the supervisor (default true).
    :param metrics_interval_ms: time between two ``metrics`` messages (default 10000).
    :param handle_signals: SIGTERM and SIGINT start a graceful shutdown (default true).
    :param shutdown_timeout_ms: after a signal, the time the current task and the hooks get (default 5000).
    :param name: name and ``role`` to use standalone (the supervisor's environment wins).
    :raises TimeoutError: no welcome in time.
    :raises ConnectionError: the channel closed before welcome.
    :raises ValueError, OSError: ``AGENTIC_PROTOCOL_FD`` is not an open socket's fd number.
    """
    global _agent
    if timeout is not None:
        warnings.warn("connect(timeout=seconds) is deprecated: use welcome_timeout_ms", DeprecationWarning, stacklevel=2)
        welcome_timeout_ms = float(timeout) * 1000.0
    with _agent_lock:
        if _agent is not None:
            return _agent
        options: Dict[str, Any] = {"metrics": metrics, "metrics_interval_ms": metrics_interval_ms,
                                   "shutdown_timeout_ms": shutdown_timeout_ms, "name": name, "role": role}
        raw = os.environ.get(ENV_PROTOCOL_FD, "").strip()
        if not raw:
            _agent = Agent(None, capabilities, **options)
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
        agent = Agent(sock, capabilities, **options)
        agent._start(welcome_timeout_ms / 1000.0, handle_signals)
        _agent = agent
        return agent


def get_meter(name: str, version: Optional[str] = None) -> Meter:
    """``connect()``'s agent's meter (see ``Agent.get_meter``); before ``connect()``, a standalone agent's."""
    agent = _agent if _agent is not None else connect()
    return agent.get_meter(name, version)
