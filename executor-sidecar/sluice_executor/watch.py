"""Waking `wait` when main's launcher leaves a trace in the shared volume, instead of polling for it.

inotify (through `asyncinotify`) on `/var/run/argo`, its `ctr/` and each `ctr/<container>/`: the
launcher creating its directory and files, renaming `exitcode` into place, or closing `running` as it
dies (also when it is killed outright: the kernel closes its files) wakes `wait`, which then re-reads the
exit codes (wait.py `exit_codes`). Writes to a log do not wake it (no IN_MODIFY), and neither do its own
read-only opens (no IN_CLOSE_NOWRITE). A wake-up every `fallback` seconds covers anything inotify could
miss; where inotify cannot be used (no more watches, another kernel), it is plain polling.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

try:
    from asyncinotify import Inotify, Mask
except (ImportError, OSError, RuntimeError):  # not Linux, or no libc to bind (its RuntimeError): polling
    Inotify = None  # type: ignore[assignment,misc]

POLL_SECONDS = 0.02  # without inotify
FALLBACK_SECONDS = 1.0  # with inotify


class ExitWatch:
    """`await watch.changed(timeout)` returns when something may have changed, or after `timeout`."""

    def __init__(
        self,
        run: Path,
        containers: Iterable[str],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.dirs = [run, run / "ctr", *(run / "ctr" / name for name in containers)]
        self.sleep = sleep
        self.watched: set[Path] = set()
        self.inotify = None
        if Inotify is not None:
            with contextlib.suppress(OSError):
                self.inotify = Inotify()
        self.refresh()

    @property
    def event_driven(self) -> bool:
        return self.inotify is not None

    def refresh(self) -> None:
        """Watch the directories that exist by now (the launcher creates its own when main starts)."""
        if self.inotify is None:
            return
        mask = Mask.CREATE | Mask.MOVED_TO | Mask.CLOSE_WRITE | Mask.ONLYDIR
        for path in self.dirs:
            if path in self.watched or not path.is_dir():
                continue
            try:
                self.inotify.add_watch(path, mask)
            except OSError:  # out of watches (fs.inotify.max_user_watches): poll instead
                self.close()
                return
            self.watched.add(path)

    async def changed(self, timeout: float) -> None:
        if self.inotify is None:
            await self.sleep(min(timeout, POLL_SECONDS))
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.inotify.get(), min(timeout, FALLBACK_SECONDS))
        self.refresh()

    def close(self) -> None:
        if self.inotify is not None:
            self.inotify.close()
            self.inotify = None

    def __enter__(self) -> ExitWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
