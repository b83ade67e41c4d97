"""Runs one `jqFilter` for jqfilter.py, in a process of its own: reads `{"program", "document"}` as JSON on
stdin, limits its own address space to argv[1] bytes first, writes `{"results": [...]}` or
`{"error": "..."}` as JSON on stdout. Run as a script (`python -P -s jq_child.py LIMIT`), never imported."""

import json
import resource
import sys


def main() -> None:
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    request = json.load(sys.stdin)
    try:
        import jq

        results = jq.compile(request["program"]).input_value(request["document"]).all()
        answer = {"results": results}
    except ValueError as exc:  # jq's compile and runtime errors
        answer = {"error": " ".join(str(exc).split())[:300]}
    except MemoryError:
        answer = {"error": f"ran out of memory (over {limit // (1024 * 1024)} MiB)"}
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
