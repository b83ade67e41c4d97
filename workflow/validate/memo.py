"""Referenced templates validated once, not on every check that reaches them.

A webhook checks hundreds of workflows against the same few (Cluster)WorkflowTemplates: validating their
leaf templates again for each request is most of what a templateRef costs. A leaf template's validation
(everything but steps and DAG templates, which call others) is a function of:

- the template itself, where it sits (its path, its object's kind and name) and whether it runs in the
  exit handler: the memo key. The template is keyed by content (a digest of its pickle, which keeps
  types apart: 1, 1.0, True and "1" differ), so a changed template, or one whose object changed
  around it, is a new key and never a stale hit, whatever the template store's generation;
- the workflow around it: which global names resolve (workflow.parameters.x, labels...) and whether
  templateDefaults give an image. These are recorded as the questions asked and their answers, and an
  entry is reused only when the same questions get the same answers in the check at hand.

What is stored is the problems reported (replayed through the context, so they are relocated to the
reference that reaches the template and deduplicated as on the first time), the TemplateInfo, and the
answers: digests and strings, no document. The memo is bounded (entries, and what an entry may hold).
"""

from __future__ import annotations

import hashlib
import pickle
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflow.validate.context import Ctx, Job
    from workflow.validate.variables import GlobalScope, TemplateInfo

MAX_ENTRIES = 1024
MAX_VARIANTS = 4  # entries per key
MAX_PROBLEMS = 64  # a template with more problems than this is revalidated (its entry would be big)
MAX_TEXT = 16 * 1024  # characters of problem text an entry may hold
MAX_TEMPLATE_BYTES = 1024 * 1024  # bigger templates are not memoised (nor pickled twice)

ERROR, WARNING, MISSING = 0, 1, 2


@dataclass(slots=True)
class Recorder:
    """What one template's validation reported and asked of the workflow around it."""

    job: Job
    problems: list[tuple[int, str, str]] = field(
        default_factory=list
    )  # (ERROR|WARNING|MISSING, path, message)
    globals_read: dict[tuple[str, bool], bool] = field(
        default_factory=dict
    )  # (tag, exit handler) -> resolves
    images_read: dict[str, bool] = field(
        default_factory=dict
    )  # template type -> templateDefaults give an image
    foreign: bool = False  # something was reported for another job: not memoisable

    def note(self, job: Job | None, how: int, path: str, message: str) -> None:
        if job is not self.job:
            self.foreign = True
            return
        self.problems.append((how, path, message))


class RecordingGlobals:
    """The workflow's GlobalScope, answering as it does and noting each question (Scope only calls resolves)."""

    __slots__ = ("inner", "reads")

    def __init__(self, inner: GlobalScope, reads: dict[tuple[str, bool], bool]):
        self.inner = inner
        self.reads = reads

    def resolves(self, tag: str, exit_handler: bool) -> bool:
        answer = self.inner.resolves(tag, exit_handler)
        self.reads[(tag, exit_handler)] = answer
        return answer


@dataclass(frozen=True, slots=True)
class Entry:
    info: TemplateInfo
    problems: tuple[tuple[int, str, str], ...]
    globals_read: tuple[tuple[str, bool, bool], ...]
    images_read: tuple[tuple[str, bool], ...]


class TemplateMemo:
    """A bounded map of keys, each with a few Entries (workflows that answer the questions differently),
    oldest key out first.

    Owned by the program that keeps it between checks (workflow.check.CheckCaches); a program that
    shares it between threads passes a `lock` (a `threading.Lock()`: the core imports no threading).
    """

    def __init__(self, max_entries: int = MAX_ENTRIES, lock: AbstractContextManager[Any] | None = None):
        self.max_entries = max_entries
        self._entries: dict[tuple[Any, ...], tuple[Entry, ...]] = {}
        self._lock = lock if lock is not None else nullcontext()

    def get(self, key: tuple[Any, ...]) -> tuple[Entry, ...]:
        with self._lock:
            return self._entries.get(key, ())

    def put(self, key: tuple[Any, ...], entry: Entry) -> None:
        with self._lock:
            entries = self._entries
            entries[key] = (entry, *entries.get(key, ())[: MAX_VARIANTS - 1])
            while len(entries) > self.max_entries:
                del entries[next(iter(entries))]

    def entries(self) -> list[Entry]:
        with self._lock:
            return [e for variants in self._entries.values() for e in variants]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def memo_key(job: Job) -> tuple[Any, ...] | None:
    """The key of a referenced template's validation, or None when it cannot be memoised."""
    try:
        data = pickle.dumps(job.tmpl, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an object pickle refuses, or a structure too deep: validated every time
        return None
    if len(data) > MAX_TEMPLATE_BYTES:
        return None
    digest = hashlib.blake2b(data, digest_size=32).digest()
    return (digest, job.path, job.owner.kind, job.owner.name, job.exit_handler, job.caller)


def entry_of(rec: Recorder, info: TemplateInfo) -> Entry | None:
    """What to store of a recording (None when it is not worth keeping or not memoisable)."""
    if rec.foreign or len(rec.problems) > MAX_PROBLEMS:
        return None
    if sum(len(p) + len(m) for _, p, m in rec.problems) > MAX_TEXT:
        return None
    return Entry(
        info,
        tuple(rec.problems),
        tuple((tag, exit_handler, answer) for (tag, exit_handler), answer in rec.globals_read.items()),
        tuple(rec.images_read.items()),
    )


def holds(entry: Entry, ctx: Ctx, job: Job) -> bool:
    """The workflow at hand answers every question the recorded validation asked as it was answered then."""
    from workflow.validate.leaf import default_image

    resolves = ctx.globals.resolves
    for tag, exit_handler, answer in entry.globals_read:
        if resolves(tag, exit_handler) != answer:
            return False
    return all(default_image(ctx, job, kind) == answer for kind, answer in entry.images_read)


def replay(entry: Entry, ctx: Ctx, job: Job) -> None:
    for how, path, message in entry.problems:
        if how == ERROR:
            ctx.error(job, path, message)
        elif how == WARNING:
            ctx.warn(job, path, message)
        else:
            ctx.missing(job, path, message)
