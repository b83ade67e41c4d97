"""Policy rules evaluated in child processes that can be stopped (issue 13, items 1-3).

The Rust CEL interpreter holds the GIL for the whole of one evaluation and cannot be interrupted, and
some expressions over a hostile object are slow (a `filter` copying big elements: tens of seconds) or
big (the CEL copy of a 3 MiB review: hundreds of MB). In a thread that froze the event loop, kept
running after the deadline's answer and kept the pool busy. Here each evaluation runs in a child
process with an address-space limit; when it is over its time limit the child is killed (SIGKILL:
the work really stops) and replaced in the background, and the request's matching rules count as
errors ("stopped after 3s"), so failurePolicy decides: Fail denies, Ignore skips.

The child is stateless: it gets the rules' expression strings (compiled once each, cached) and the
request's variables as JSON; it answers a list of RuleResult (webhook/policy/engine.py).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import queue
import resource
import signal
import sys
import threading
import time
from collections import OrderedDict
from multiprocessing.connection import Connection
from typing import Any

import msgspec

from webhook.policy.engine import MAX_VALUES, PolicyStopped, RuleResult, evaluate_rules

log = logging.getLogger("sluice.webhook")

READY = b"ready"
DEFAULT_TIMEOUT = 3.0  # seconds; under the server's 4 s deadline (webhook/server.py)
# The child's address-space limit (RLIMIT_AS). Measured (benchmarks/RESULTS.md): an idle child maps
# ~150 MB; the CEL copy of the biggest review the API server forwards stays well under this.
DEFAULT_MEMORY = 768 * 1024 * 1024
# The size of what is sent to a worker (JSON of the variables the rules read): a guard on the pipe and
# on the child's decoding; the cost budget proper counts values (webhook/policy/engine.py MAX_VALUES).
DEFAULT_INPUT_BUDGET = 16 * 1024 * 1024
_COMPILED_KEEP = 512


class _Request(msgspec.Struct, array_like=True):
    values: dict[str, Any]
    rules: list[tuple[str, str | None]]


def _child(conn: Connection, evaluator_name: str, memory: int, max_values: int) -> None:
    """The worker process: answer requests until the pipe closes."""
    _die_with_parent()
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    from webhook.policy.cel import CelError, evaluator

    cel = evaluator(evaluator_name)
    compiled: OrderedDict[str, Any] = OrderedDict()

    def program(expression: str) -> Any:
        if expression not in compiled:
            compiled[expression] = cel.compile(expression)
            if len(compiled) > _COMPILED_KEEP:
                compiled.popitem(last=False)
        compiled.move_to_end(expression)
        return compiled[expression]

    decoder = msgspec.json.Decoder(_Request)
    conn.send_bytes(READY)
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        answer: list[RuleResult] | None = None
        try:
            req = decoder.decode(data)
            del data
            rules = [(program(e), None if m is None else program(m)) for e, m in req.rules]
            answer = evaluate_rules(cel, req.values, rules, max_values)
            del req, rules
        except MemoryError:
            answer = None
        except CelError as exc:  # an expression the parent compiled does not compile here: a bug
            answer = [("error", str(exc), None)]
        # A wrong-length answer tells the parent to count every rule as stopped.
        conn.send_bytes(msgspec.json.encode(answer or []))
        del answer


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the server that started it dies (even by SIGKILL)."""
    if sys.platform == "linux":
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class _Worker:
    def __init__(self, ctx: Any, evaluator_name: str, memory: int, max_values: int) -> None:
        self.conn, child_conn = ctx.Pipe()
        self.process = ctx.Process(
            target=_child,
            args=(child_conn, evaluator_name, memory, max_values),
            daemon=True,
            name="sluice-policy-worker",
        )
        self.process.start()
        child_conn.close()

    def wait_ready(self, timeout: float) -> bool:
        try:
            return self.conn.poll(timeout) and self.conn.recv_bytes() == READY
        except (EOFError, OSError):  # it died while starting (or the pool was closed meanwhile)
            return False

    def call(self, payload: bytes, timeout: float) -> tuple[list[RuleResult] | None, str]:
        """(the answer, "") or (None, why: "timeout" when the child is still working, else "failed")."""
        try:
            self.conn.send_bytes(payload)
            if not self.conn.poll(timeout):
                return None, "timeout"
            return msgspec.json.decode(self.conn.recv_bytes(), type=list[tuple[str, Any, str | None]]), ""
        except (EOFError, OSError, msgspec.DecodeError):
            return None, "failed"

    def kill(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.process.kill()
        self.process.join(10)
        self.conn.close()


class PolicyWorkers:
    """A fixed number of worker processes; a request takes an idle one or waits (within its limit)."""

    def __init__(
        self,
        evaluator_name: str,
        size: int = 2,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        memory: int = DEFAULT_MEMORY,
        input_budget: int = DEFAULT_INPUT_BUDGET,
        max_values: int = MAX_VALUES,
        start_timeout: float = 120.0,
    ) -> None:
        self.input_budget, self.max_values = input_budget, max_values
        self.evaluator_name, self.timeout, self.memory = evaluator_name, timeout, memory
        self.start_timeout = start_timeout
        self._ctx = multiprocessing.get_context("spawn")  # never fork a threaded server
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._live: set[_Worker] = set()
        self._closed = False
        self.stopped = 0  # evaluations stopped at the limit (killed workers)
        self.size = size
        self.started = 0  # workers that have said they are ready, ever (the server's readiness waits on it)
        self._wanted: queue.Queue[bool] = queue.Queue()
        self._thread = threading.Thread(target=self._starter, name="policy-worker-start", daemon=True)
        self._thread.start()
        for _ in range(size):
            self._replace()

    def _replace(self) -> None:
        """Ask for one more worker; it joins the idle queue once it has said it is ready."""
        self._wanted.put(True)

    def _starter(self) -> None:
        # One long-lived thread starts every worker: a child's PR_SET_PDEATHSIG fires when the *thread*
        # that started it ends, so that thread must live as long as the pool.
        while self._wanted.get():
            if self._closed:
                return
            try:
                worker = _Worker(self._ctx, self.evaluator_name, self.memory, self.max_values)
            except Exception:
                log.exception("could not start a policy worker")
                continue
            with self._lock:
                if self._closed:
                    worker.kill()
                    return
                self._live.add(worker)
            if worker.wait_ready(self.start_timeout):
                self.started += 1
                self._idle.put(worker)
            elif not self._closed:
                log.error("a policy worker did not start (or died starting); starting another in 1 s")
                self._discard(worker)
                time.sleep(1)  # no busy loop when workers cannot start at all
                self._replace()

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._live.discard(worker)
        worker.kill()

    def run(self, values: dict[str, Any], rules: list[tuple[str, str | None]]) -> list[RuleResult]:
        started = time.monotonic()
        payload = msgspec.json.encode(_Request(values=values, rules=rules))
        if len(payload) > self.input_budget:
            raise PolicyStopped(
                f"not evaluated: its input is {len(payload):,} bytes of JSON, over the {self.input_budget:,}-byte budget"
            )
        try:
            worker = self._idle.get(timeout=self.timeout)
        except queue.Empty:
            raise PolicyStopped(f"not evaluated: no policy worker free within {self.timeout:g}s") from None
        left = max(0.0, self.timeout - (time.monotonic() - started))
        answer, why = worker.call(payload, left)
        if answer is not None and len(answer) == len(rules):
            self._idle.put(worker)
            return answer
        if answer is not None:  # the child answered but could not evaluate (MemoryError); it is reusable
            self._idle.put(worker)
            raise PolicyStopped("evaluation failed: over the evaluator's memory limit")
        self._discard(worker)
        self.stopped += 1
        if not self._closed:
            self._replace()
        if why == "timeout":
            raise PolicyStopped(f"evaluation stopped after {self.timeout:g}s")
        raise PolicyStopped("evaluation failed: the evaluator process died (over its memory limit)")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wanted.put(False)
            live = list(self._live)
            self._live.clear()
        for worker in live:
            worker.kill()
