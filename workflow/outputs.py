"""What a finished container yields as outputs: one set of rules for the executor and the local runner.

Argo's rules for `outputs.parameters` and `outputs.result`, and for its `wait` container:

* `outputs.result` is main's stdout with one trailing newline trimmed, then capped to its last 256 KiB
  (Argo trims first, then keeps the tail);
* an output parameter with `valueFrom.path` is the file's content with one trailing newline trimmed;
  when the file cannot be read, `valueFrom.default` is used, else the step fails naming the parameter;
  parameters without a path (`supplied`, `parameter`, `expression`, `jsonPath`...) are not the
  executor's to fill and are left out;
* the exit code of a process killed by signal N is 128 + N; the launcher itself failing is 64.

Pure: the callers read the files (sluice/runner/localpod.py on this machine,
executor-sidecar/sluice_executor/wait.py in a pod) and hand the bytes, or the OSError, in here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

RESULT_LIMIT = 256 * 1024
# How many bytes at the end of stdout a caller must read: the cap plus the newline trimmed before it.
RESULT_TAIL = RESULT_LIMIT + 1
LAUNCHER_FAILED = 64  # the launcher (Argo: emissary) could not run the command at all
SIGNAL_BASE = 128


def _text(data: bytes) -> str:
    # Go keeps the bytes and JSON-encodes invalid UTF-8 as U+FFFD; decoding with "replace" reads the same.
    return data.decode("utf-8", "replace")


def _trim_newline(data: bytes) -> bytes:
    return data[:-1] if data.endswith(b"\n") else data


def result(stdout_tail: bytes) -> str:
    """`outputs.result` from the end of main's stdout (the whole of it, or at least its last RESULT_TAIL
    bytes)."""
    return _text(_trim_newline(stdout_tail)[-RESULT_LIMIT:])


def exit_code(returncode: int) -> int:
    """A process status as a container reports it: killed by signal N (Python: -N) is 128 + N."""
    return SIGNAL_BASE - returncode if returncode < 0 else returncode


def parse_exit_code(text: str) -> int | None:
    """The launcher's exit-code file; None when it is not a number (not written completely)."""
    text = text.strip()
    if not text or not text.lstrip("-").isdigit():
        return None
    return int(text)


@dataclass(slots=True)
class Collected:
    """Output parameters read so far, and one error per parameter that could not be given a value."""

    parameters: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def file_parameters(declared: Any) -> list[dict[str, Any]]:
    """The declared output parameters the executor fills from files (`valueFrom.path`)."""
    out = []
    for param in declared or ():
        if (
            isinstance(param, dict)
            and isinstance(param.get("valueFrom"), dict)
            and param["valueFrom"].get("path")
        ):
            out.append(param)
    return out


def parameter_value(param: dict[str, Any], content: bytes | OSError) -> tuple[str | None, str]:
    """(value, error) of one output parameter given its file's content or the error reading it."""
    value_from = param.get("valueFrom") or {}
    if isinstance(content, bytes):
        return _text(_trim_newline(content)), ""
    default = value_from.get("default")
    if default is not None:
        text = _default_text(default)
        return (text[:-1] if text.endswith("\n") else text), ""
    reason = content.strerror or str(content)
    return None, f"output parameter {param.get('name')}: cannot read {value_from.get('path')}: {reason}"


def _default_text(value: Any) -> str:
    # AnyString: numbers and booleans are kept as the text the user wrote (`true`, `1`), not Python's.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def output_parameters(declared: Any, read: Callable[[str], bytes]) -> Collected:
    """Fill the file-backed output parameters of a template's `outputs.parameters`.

    `read(path)` returns the file's bytes or raises OSError. Each reported parameter keeps the declared
    fields (`valueFrom`, `globalName`, `description`) and gets `value`."""
    collected = Collected()
    for param in file_parameters(declared):
        try:
            content: bytes | OSError = read(str(param["valueFrom"]["path"]))
        except OSError as exc:
            content = exc
        value, error = parameter_value(param, content)
        if value is None:
            collected.errors.append(error)
            continue
        reported = {k: v for k, v in param.items() if k != "value"}
        reported["value"] = value
        collected.parameters.append(reported)
    return collected
