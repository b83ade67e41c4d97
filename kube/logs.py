"""Structured logs: one line per event, JSON on request (`--log-format json`), secrets never written.

Shared by the webhook and the controller. Neither logs request bodies nor objects' specs (they may
carry parameters with credentials) nor key material; as a second line of defence the formatter drops
any `extra` field whose name looks like a secret.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_SECRET_WORDS = ("key", "token", "password", "secret", "cert", "authorization")


def _extras(record: logging.LogRecord) -> dict[str, object]:
    out = {}
    for name, value in vars(record).items():
        if name in _STANDARD or name.startswith("_"):
            continue
        out[name] = "[redacted]" if any(w in name.lower() for w in _SECRET_WORDS) else value
    return out


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# Characters that end or redraw a line: in a name or a message they could forge log lines (issue 13).
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def _message(text: str) -> str:
    """The message on one line: escaped (JSON-style) only when it holds a line-breaking character."""
    return json.dumps(text)[1:-1] if _LINE_BREAKING.search(text) else text


def _value(value: object) -> str:
    """An extra's value: quoted and escaped when it could be read as more than one value or line."""
    text = str(value)
    if not text or _LINE_BREAKING.search(text) or any(c in text for c in ' "='):
        return json.dumps(text)
    return text


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = _message(record.getMessage())
        line = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname.lower():7} {message}"
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={_value(v)}" for k, v in extras.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(fmt: str = "text", level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    formatter.converter = time.gmtime  # UTC timestamps
    handler.setFormatter(formatter)
    root = logging.getLogger("sluice")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
