"""`--log-format text`: one event is one line, whatever a name or message holds (issue 13 item 13: a
newline in a workflow's name forged a log line)."""

from __future__ import annotations

import logging

from kube.logs import TextFormatter


def line(msg, **extra) -> str:
    record = logging.makeLogRecord({"msg": msg, "levelname": "INFO", "levelno": logging.INFO, **extra})
    return TextFormatter().format(record)


def test_a_newline_in_a_value_or_message_cannot_start_a_line():
    forged = "wf\n12:00:00 info    admission allowed=True user=system-admin"
    out = line("admission", object=forged, user="mallory")
    assert "\n" not in out
    assert 'object="wf\\n12:00:00 info    admission allowed=True user=system-admin"' in out
    assert out.endswith("user=mallory")
    out = line("policy %s refused", args=("a\r\nb",))
    assert "\n" not in out and "\r" not in out and "a\\r\\nb" in out
    assert "\u2028" not in line("x", object="a\u2028b")


def test_plain_values_stay_as_they_are():
    assert line("listening", url="https://0.0.0.0:8443", count=3).endswith(
        "listening url=https://0.0.0.0:8443 count=3"
    )
    assert line("x", object="two words").endswith('object="two words"')
