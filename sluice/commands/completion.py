"""`sluice completion bash|zsh`: a shell completion script, generated from the parser itself.

    source <(sluice completion bash)        # or: sluice completion zsh > "${fpath[1]}/_sluice"

Verbs, sub-verbs (`template`, `cron`) and each one's flags are completed; file arguments fall back to
the shell's file completion. Generated from sluice/cli.py's parser, so it never goes stale.
"""

from __future__ import annotations

import argparse
import sys

from sluice.cli import EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("completion", help="print a shell completion script (bash or zsh)")
    p.add_argument("shell", choices=["bash", "zsh"])
    p.set_defaults(run=run)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _flags(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(s for a in parser._actions for s in a.option_strings if a.help != argparse.SUPPRESS)


def table(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """'verb' or 'verb sub' -> the words that may follow it (sub-verbs and flags)."""
    words: dict[str, list[str]] = {"": sorted(_subparsers(parser)) + _flags(parser)}
    for verb, sub in _subparsers(parser).items():
        nested = _subparsers(sub)
        words[verb] = sorted(nested) + _flags(sub)
        for name, leaf in nested.items():
            words[f"{verb} {name}"] = _flags(leaf)
    return words


def bash_script(words: dict[str, list[str]]) -> str:
    cases = "\n".join(f'        "{key}") opts="{" ".join(value)}" ;;' for key, value in sorted(words.items()))
    return f"""# bash completion for sluice (sluice completion bash)
_sluice() {{
    local cur key i
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    key=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${{COMP_WORDS[i]}}" in
            -*) ;;
            *) if [[ -z "$key" ]]; then key="${{COMP_WORDS[i]}}";
               elif [[ "$key" == "template" || "$key" == "cron" ]]; then key="$key ${{COMP_WORDS[i]}}"; fi ;;
        esac
    done
    local opts=""
    case "$key" in
{cases}
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    if [[ ${{#COMPREPLY[@]}} -eq 0 && "$cur" != -* ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}}
complete -o filenames -F _sluice sluice
"""


def run(args: argparse.Namespace) -> int:
    from sluice.cli import build_parser  # noqa: PLC0415

    script = bash_script(table(build_parser()))
    if args.shell == "zsh":
        script = "#compdef sluice\nautoload -U +X bashcompinit && bashcompinit\n" + script
    sys.stdout.write(script)
    return EXIT_OK
