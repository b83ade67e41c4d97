"""Policy rules evaluated in child processes that can be stopped (issue 13, items 1-3).

The Rust CEL interpreter holds the GIL for the whole of one evaluation and cannot be interrupted, and
some expressions over a hostile object are slow (a `filter` copying big elements: tens of seconds) or
big (the CEL copy of a 3 MiB review: hundreds of MB). In a thread that froze the event loop, kept
running after the deadline's answer and kept the pool busy. Here each evaluation runs in a child
process with an address-space limit; when it is over its time limit the child is killed (SIGKILL:
the work really stops) and replaced in the background, and the rule it was evaluating counts as an
error ("stopped after 3s"), so failurePolicy decides: Fail denies, Ignore skips.

The child is stateless: it gets the rules' expression strings (compiled once each, cached) and the
request's variables as JSON; it sends one RuleResult (webhook/policy/engine.py) per rule as each is
done. So a stop names its one offender: the rules done before it keep their results, and the rules after
it are sent to another worker, with `rest_timeout` more seconds (once per request).

Answers are kept by the exact input (a digest of the encoded rules and variables), as the evaluation is
a pure function of it: a resubmitted object (dry-run then apply, an Argo CD diff then its sync, the API
server's retries) is answered without the round trip to a worker. The round trip itself is cheap in CPU
(~0.2 ms for the benchmark's 10 containers) but adds two process wake-ups to the request, and on a busy
node each wake-up waits its turn for a core: that was most of the admission latency regression
(benchmarks/RESULTS.md, "Admission webhook").
"""

from __future__ import annotations

import contextlib
import hashlib
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

from webhook.policy.engine import MAX_VALUES, PolicyStopped, RuleResult, iter_rule_results

log = logging.getLogger("sluice.webhook")

READY = b"ready"
ABORT = "abort"  # a child's message: the rules not yet answered cannot be evaluated (the text says why)
DEFAULT_REST_TIMEOUT = 0.5  # seconds more for the rules after a stopped one (once per request)
DEFAULT_TIMEOUT = 3.0  # seconds; under the server's 4 s deadline (webhook/server.py)
# The child's address-space limit (RLIMIT_AS). Measured (benchmarks/RESULTS.md): an idle child maps
# ~150 MB; the CEL copy of the biggest review the API server forwards stays well under this.
DEFAULT_MEMORY = 768 * 1024 * 1024
# The size of what is sent to a worker (JSON of the variables the rules read): a guard on the pipe and
# on the child's decoding; the cost budget proper counts values (webhook/policy/engine.py MAX_VALUES).
DEFAULT_INPUT_BUDGET = 16 * 1024 * 1024
_COMPILED_KEEP = 512
DEFAULT_KEEP_ANSWERS = 256  # answers kept by input digest; each is a few short strings per rule


_RESULT = msgspec.json.Decoder(tuple[str, Any, str | None])


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
        try:
            req = decoder.decode(data)
            del data
            rules = [(program(e), None if m is None else program(m)) for e, m in req.rules]
            for result in iter_rule_results(cel, req.values, rules, max_values):
                conn.send_bytes(msgspec.json.encode(result))
            del req, rules
        except MemoryError:
            conn.send_bytes(
                msgspec.json.encode((ABORT, "evaluation failed: over the evaluator's memory limit", None))
            )
        except CelError as exc:  # an expression the parent compiled does not compile here: a bug
            conn.send_bytes(msgspec.json.encode((ABORT, str(exc), None)))


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

    def call(self, payload: bytes, count: int, deadline: float) -> tuple[list[RuleResult], str]:
        """The results of the first rules, and why there are not `count` of them: "" (there are),
        "timeout" (the child is still at the next rule), "abort" (the child said why, in the last
        result) or "failed" (the child died)."""
        results: list[RuleResult] = []
        try:
            self.conn.send_bytes(payload)
            while len(results) < count:
                if not self.conn.poll(max(0.0, deadline - time.monotonic())):
                    return results, "timeout"
                result = _RESULT.decode(self.conn.recv_bytes())
                results.append(result)
                if result[0] == ABORT:
                    return results, "abort"
            return results, ""
        except (EOFError, OSError, msgspec.DecodeError):
            return results, "failed"

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
        keep_answers: int = DEFAULT_KEEP_ANSWERS,
        rest_timeout: float = DEFAULT_REST_TIMEOUT,
    ) -> None:
        self.input_budget, self.max_values = input_budget, max_values
        self.evaluator_name, self.timeout, self.memory = evaluator_name, timeout, memory
        self.start_timeout = start_timeout
        self.keep_answers = keep_answers
        self.rest_timeout = rest_timeout
        self._answers: OrderedDict[bytes, list[RuleResult]] = OrderedDict()
        self.answer_hits = 0
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
        """One RuleResult per rule. PolicyStopped when none can be evaluated (input over the budget, no
        worker free in time); a rule stopped at the limit is its own error, the others are answered."""
        started = time.monotonic()
        payload = msgspec.json.encode(_Request(values=values, rules=rules))
        if len(payload) > self.input_budget:
            raise PolicyStopped(
                f"not evaluated: its input is {len(payload):,} bytes of JSON, over the {self.input_budget:,}-byte budget"
            )
        key = hashlib.blake2b(payload, digest_size=20).digest()
        with self._lock:
            kept = self._answers.get(key)
            if kept is not None:
                self._answers.move_to_end(key)
                self.answer_hits += 1
                return list(kept)
        deadline = started + self.timeout
        results: list[RuleResult] = []
        extended = False
        while len(results) < len(rules):
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                if not results:
                    raise PolicyStopped(
                        f"not evaluated: no policy worker free within {self.timeout:g}s"
                    ) from None
                text = f"not evaluated: no policy worker free after rule {len(results) - 1} was stopped"
                return results + [("error", text, None)] * (len(rules) - len(results))
            if results:  # the rules after a stopped one
                payload = msgspec.json.encode(_Request(values=values, rules=rules[len(results) :]))
            got, why = worker.call(payload, len(rules) - len(results), deadline)
            results += got
            if why == "":
                self._idle.put(worker)
                break
            if why == "abort":  # the child is fine; it could not evaluate the rest (MemoryError)
                self._idle.put(worker)
                _, text, _ = results.pop()
                return results + [("error", text, None)] * (len(rules) - len(results))
            self._discard(worker)
            self.stopped += 1
            if not self._closed:
                self._replace()
            if why == "timeout":
                results.append(("error", f"evaluation stopped after {self.timeout:g}s", None))
            else:
                results.append(
                    ("error", "evaluation failed: the evaluator process died (over its memory limit)", None)
                )
            if extended:  # a second stop in one request: the rest is not evaluated
                text = f"not evaluated: rule {len(results) - 1} was stopped too"
                return results + [("error", text, None)] * (len(rules) - len(results))
            extended = True
            deadline = max(deadline, time.monotonic()) + self.rest_timeout
        if not extended:
            self._keep(key, results)
        return results

    def _keep(self, key: bytes, answer: list[RuleResult]) -> None:
        if self.keep_answers <= 0:
            return
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self.keep_answers:
                self._answers.popitem(last=False)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wanted.put(False)
            live = list(self._live)
            self._live.clear()
        for worker in live:
            worker.kill()
