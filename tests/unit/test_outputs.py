"""Output rules (workflow/outputs.py): result, output parameters from files, exit codes, as tables."""

from __future__ import annotations

import errno

import pytest

from workflow import outputs

KIB = 1024


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        (b"", ""),
        (b"hello\n", "hello"),
        (b"hello", "hello"),
        (b"hello\n\n", "hello\n"),  # only one newline is trimmed
        (b"a\r\n", "a\r"),
        (b"caf\xc3\xa9\n", "café"),
        (b"bad \xff byte", "bad \ufffd byte"),  # invalid UTF-8 reads as Go's JSON writes it
        (b"x" * (256 * KIB), "x" * (256 * KIB)),  # exactly the cap: kept whole
        (b"x" * (256 * KIB) + b"\n", "x" * (256 * KIB)),  # the newline is trimmed before capping
        (b"head" + b"y" * (256 * KIB), "y" * (256 * KIB)),  # over the cap: the last 256 KiB
        (b"head" + b"y" * (256 * KIB - 1) + b"z\n", "y" * (256 * KIB - 1) + "z"),
    ],
    ids=[
        "empty",
        "newline",
        "no-newline",
        "two-newlines",
        "crlf",
        "utf8",
        "invalid-utf8",
        "at-cap",
        "at-cap-newline",
        "over-cap",
        "over-cap-newline",
    ],
)
def test_result(stdout, expected):
    assert outputs.result(stdout) == expected


def test_result_needs_only_the_tail():
    big = b"h" * 10_000 + b"t" * (256 * KIB) + b"\n"
    assert outputs.result(big[-outputs.RESULT_TAIL :]) == outputs.result(big)


@pytest.mark.parametrize(
    ("returncode", "expected"),
    [(0, 0), (1, 1), (2, 2), (137, 137), (255, 255), (-9, 137), (-15, 143), (-2, 130)],
)
def test_exit_code(returncode, expected):
    assert outputs.exit_code(returncode) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("1\n", 1),
        (" 137 ", 137),
        ("64", 64),
        ("", None),
        ("\n", None),
        ("x", None),
        ("1x", None),
        ("-1", -1),
    ],
)
def test_parse_exit_code(text, expected):
    assert outputs.parse_exit_code(text) == expected


def _missing(path: str) -> bytes:
    raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)


def _directory(path: str) -> bytes:
    raise IsADirectoryError(errno.EISDIR, "Is a directory", path)


def _files(files: dict[str, bytes]):
    def read(path: str) -> bytes:
        if path in files:
            return files[path]
        return _missing(path)

    return read


def param(name, path=None, **value_from):
    vf = dict(value_from)
    if path is not None:
        vf["path"] = path
    return {"name": name, "valueFrom": vf}


# (declared, files, expected parameters (name -> value), expected error substrings)
PARAM_CASES = {
    "file": ([param("p", "/tmp/p")], {"/tmp/p": b"hello\n"}, {"p": "hello"}, []),
    "file-two-newlines": ([param("p", "/tmp/p")], {"/tmp/p": b"a\n\n"}, {"p": "a\n"}, []),
    "empty-file": ([param("p", "/tmp/p")], {"/tmp/p": b""}, {"p": ""}, []),
    "missing-no-default": (
        [param("p", "/tmp/p")],
        {},
        {},
        ["output parameter p: cannot read /tmp/p: No such file or directory"],
    ),
    "missing-default": ([param("p", "/tmp/p", default="fallback")], {}, {"p": "fallback"}, []),
    "missing-empty-default": ([param("p", "/tmp/p", default="")], {}, {"p": ""}, []),
    "missing-default-bool": ([param("p", "/tmp/p", default=True)], {}, {"p": "true"}, []),
    "missing-default-number": ([param("p", "/tmp/p", default=3)], {}, {"p": "3"}, []),
    "file-beats-default": ([param("p", "/tmp/p", default="d")], {"/tmp/p": b"real"}, {"p": "real"}, []),
    "directory-default": ([param("p", "/tmp", default="d")], {}, {"p": "d"}, []),
    "supplied-not-read": ([param("p", supplied={})], {}, {}, []),
    "expression-not-read": ([param("p", expression="1")], {}, {}, []),
    "no-value-from": ([{"name": "p", "value": "x"}], {}, {}, []),
    "two-one-missing": (
        [param("a", "/a"), param("b", "/b")],
        {"/a": b"1"},
        {"a": "1"},
        ["output parameter b: cannot read /b"],
    ),
}


@pytest.mark.parametrize("case", sorted(PARAM_CASES))
def test_output_parameters(case):
    declared, files, expected, errors = PARAM_CASES[case]
    read = _directory if case.startswith("directory") else _files(files)
    got = outputs.output_parameters(declared, read)
    assert {p["name"]: p["value"] for p in got.parameters} == expected
    assert len(got.errors) == len(errors)
    for error, text in zip(got.errors, errors, strict=True):
        assert text in error


def test_reported_parameter_keeps_declared_fields():
    declared = [
        {
            "name": "p",
            "globalName": "g",
            "description": "d",
            "value": "stale",
            "valueFrom": {"path": "/p", "default": "x"},
        }
    ]
    got = outputs.output_parameters(declared, _files({"/p": b"v\n"}))
    assert got.parameters == [
        {
            "name": "p",
            "globalName": "g",
            "description": "d",
            "valueFrom": {"path": "/p", "default": "x"},
            "value": "v",
        }
    ]


def test_directory_without_default_names_the_reason():
    got = outputs.output_parameters([param("p", "/tmp")], _directory)
    assert got.errors == ["output parameter p: cannot read /tmp: Is a directory"]
