"""A stand-in for Argo's test image `argoproj/argosay:v2` (its entrypoint), so examples using it run locally.

argosay                         print "hello argo"
argosay echo [TEXT [FILE]]      print TEXT (default "hello argo"), or write it to FILE
argosay cat FILE...             print files
argosay sleep DURATION          sleep ("10s", "1m", or seconds)
argosay exit [CODE]             exit with CODE (default 0)
argosay assert_contains FILE TEXT / assert_equals FILE TEXT
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> float:
    total, pos = 0.0, 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?", text):
        if m.start() != pos:
            raise ValueError(text)
        total += float(m.group(1)) * _UNITS[m.group(2) or "s"]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(text)
    return total


def main(argv: list[str]) -> int:
    if not argv:
        print("hello argo")
        return 0
    cmd, args = argv[0], argv[1:]
    if cmd == "echo":
        text = args[0] if args else "hello argo"
        if len(args) > 1:
            path = Path(args[1])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        else:
            print(text)
        return 0
    if cmd == "cat":
        for name in args:
            sys.stdout.write(Path(name).read_text())
        sys.stdout.flush()
        return 0
    if cmd == "sleep":
        time.sleep(_seconds(args[0] if args else "10s"))
        return 0
    if cmd == "exit":
        return int(args[0]) if args else 0
    if cmd in ("assert_contains", "assert_equals"):
        content = Path(args[0]).read_text()
        ok = args[1] in content if cmd == "assert_contains" else content == args[1]
        if not ok:
            print(f"{cmd}: {args[0]!r} does not match {args[1]!r}", file=sys.stderr)
            return 1
        return 0
    print(f"argosay: unknown command {cmd!r}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (OSError, ValueError, IndexError) as exc:
        print(f"argosay: {exc}", file=sys.stderr)
        sys.exit(1)
