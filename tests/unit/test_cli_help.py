"""Issue 14: every option of every sluice command has help, and every command's --help ends with examples."""

from __future__ import annotations

import argparse

from sluice.cli import build_parser


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


def test_every_option_has_help():
    missing = [
        (" ".join(path), action.dest)
        for path, parser in commands(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == []


def test_every_command_help_ends_with_examples_that_name_the_command():
    for path, parser in commands(build_parser()):
        if not path:
            continue
        text = parser.format_help().rstrip()
        examples = text.rsplit("Examples:\n", 1)
        assert len(examples) == 2, " ".join(path)
        lines = examples[1].splitlines()
        assert lines and all(line.startswith("  ") for line in lines), " ".join(path)
        if path != ("executor",):
            assert any(f"sluice {' '.join(path)}" in line for line in lines), " ".join(path)
