"""Stopping a check that runs past its deadline in a worker thread (issue 13: the core's check ran on
after the Timeout answer, keeping an admission thread busy for as long as it took).

The core's check is pure Python, so the thread running it can be stopped at its next bytecode: CPython's
`PyThreadState_SetAsyncExc` raises `Stopped` in that thread. `Stopped` derives from BaseException, so
the core's and the webhook's `except Exception` handlers do not swallow it, and `with` blocks release
their locks on the way out. A long C call (one json or msgspec call, one regex match) finishes first;
those are bounded by the body size and RE2's linear time.

Sections that must not be interrupted halfway, such as a conversation with a policy worker process
(webhook/policy/worker.py, which has its own time limit), run under `shielded()`: a stop that arrives
meanwhile is raised when the section ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_LOCK = threading.Lock()
_RUNNING: dict[int, StoppableCall] = {}  # thread ident -> the call it is running


class Stopped(BaseException):
    """Raised inside a thread whose work was stopped; BaseException, so `except Exception` lets it pass."""


def _raise_in(ident: int, exc: type[BaseException] | None) -> None:
    """Ask thread `ident` to raise `exc` at its next bytecode (None: forget a pending request)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc) if exc else None)


class StoppableCall:
    """One function call in a worker thread that another thread may stop (once)."""

    __slots__ = ("_ident", "_shielded", "_pending", "stopped")

    def __init__(self) -> None:
        self._ident: int | None = None
        self._shielded = 0
        self._pending = False  # stopped while shielded: raised when the shield ends
        self.stopped = False

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) in this thread; raises Stopped when stop() was called meanwhile."""
        ident = threading.get_ident()
        with _LOCK:
            if self.stopped:
                raise Stopped
            self._ident = ident
            _RUNNING[ident] = self
        try:
            result = fn(*args)
        finally:
            with _LOCK:
                _RUNNING.pop(ident, None)
                self._ident = None
                stopped = self.stopped
                if stopped:
                    _raise_in(ident, None)  # a stop not yet delivered must not reach the pool's next job
        if stopped:
            # Stopped inside a long C call that then finished: stop() said it stopped, so no result.
            raise Stopped
        return result

    def stop(self) -> bool:
        """Stop the call (now, or when its shielded section ends); False if it is not running."""
        with _LOCK:
            if self.stopped:
                return False
            self.stopped = True
            if self._ident is None:
                return False
            if self._shielded:
                self._pending = True
            else:
                _raise_in(self._ident, Stopped)
            return True


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """A section of the current thread's stoppable call that a stop does not interrupt (no-op outside
    one); a stop that arrived meanwhile is raised at its end."""
    ident = threading.get_ident()
    with _LOCK:
        call = _RUNNING.get(ident)
        stopped_before = call is not None and call.stopped
        if stopped_before:
            _raise_in(ident, None)  # raised here instead, before the section starts
        elif call is not None:
            call._shielded += 1
    if stopped_before:
        raise Stopped
    if call is None:
        yield
        return
    try:
        yield
    finally:
        with _LOCK:
            call._shielded -= 1
            raise_now = call._pending and not call._shielded
            if raise_now:
                call._pending = False
        if raise_now:
            raise Stopped
