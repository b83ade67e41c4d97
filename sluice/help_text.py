"""Help that every command shares: the words for options a command left without help, and the examples
that end each command's `--help` (issue 14: every option has help, every --help ends with examples).

Applied once to the whole parser by `sluice/cli.py` `build_parser`, so the commands' own modules stay as
they are; a command's own help text always wins.
"""

from __future__ import annotations

import argparse

# By destination name; `{noun}` is what the command works on (a workflow, a template, a cron workflow).
OPTION_HELP = {
    "paths": "files or directories (searched for *.yaml, *.yml, *.json) to check; - reads stdin",
    "files": "YAML/JSON files holding the objects; - reads stdin",
    "name": "the {noun}'s name",
    "names": "the names of the {noun}s",
    "output": "output format",
    "color": "color the report: auto (on a terminal), always or never",
    "no_color": "plain text, no colors",
    "no_headers": "leave out the header line",
    "all_namespaces": "list in every namespace",
    "port": "HTTPS port to listen on",
    "max_request_bytes": "refuse admission requests larger than this",
    "shutdown_grace": "seconds to finish requests in flight after SIGTERM",
    "log_format": "log lines as text or as JSON objects",
    "log_level": "least severe level logged: debug, info, warning or error",
    "health_host": "address of the health and metrics endpoint",
    "lease_name": "the Lease that elects the one active controller",
    "operation": "the admission operation to evaluate as",
    "evaluator": "the CEL implementation (cel-rust is the webhook's; cel-python checks it)",
    "launcher": "path of the launcher binary in the pod",
    "shell": "the shell to print a completion script for",
}

NOUNS = {"template": "workflow template", "cron": "cron workflow"}

EXAMPLES = {
    "lint": ["sluice lint examples/", "sluice lint -o json workflow.yaml", "cat wf.yaml | sluice lint -"],
    "run": [
        "sluice run examples/hello-world.yaml",
        "sluice run examples/parameters.yaml -p greeting=bonjour",
        "sluice run templates.yaml --entrypoint hello -p who=you",
        "sluice run wf.yaml -o json | jq .status.phase",
    ],
    "resume": ["sluice resume suspend-gate-abc12", "sluice resume NAME -p decision=ship-it"],
    "webhook": ["sluice webhook --port 8443"],
    "controller": ["sluice controller"],
    "policy": ["sluice policy test policies/ examples/hello-world.yaml"],
    "policy test": [
        "sluice policy test policies/allowed-registries.yaml wf.yaml",
        "sluice policy test policies/ workflows/ --operation UPDATE",
    ],
    "executor": ["(run by the controller inside a workflow pod, not by hand)"],
    "submit": [
        "sluice submit examples/hello-world.yaml --wait",
        "sluice submit --from workflowtemplate/greet -p who=you",
        "sluice submit wf.yaml -o name",
    ],
    "list": ["sluice list", "sluice list -o wide"],
    "get": ["sluice get NAME", "sluice get NAME -o json"],
    "delete": ["sluice delete NAME", "sluice delete --completed"],
    "wait": ["sluice wait NAME"],
    "watch": ["sluice watch NAME"],
    "suspend": ["sluice suspend NAME"],
    "stop": ["sluice stop NAME"],
    "terminate": ["sluice terminate NAME"],
    "logs": ["sluice logs NAME", "sluice logs NAME -f"],
    "retry": ["sluice retry NAME"],
    "resubmit": ["sluice resubmit NAME"],
    "template": ["sluice template create templates.yaml", "sluice template list"],
    "template create": ["sluice template create templates.yaml"],
    "template list": ["sluice template list -A"],
    "template get": ["sluice template get greet -o yaml"],
    "template delete": ["sluice template delete greet"],
    "template lint": ["sluice template lint templates/"],
    "cron": ["sluice cron create cron.yaml", "sluice cron list"],
    "cron create": ["sluice cron create cron.yaml"],
    "cron list": ["sluice cron list -A"],
    "cron get": ["sluice cron get nightly"],
    "cron delete": ["sluice cron delete nightly"],
    "cron suspend": ["sluice cron suspend nightly"],
    "cron resume": ["sluice cron resume nightly"],
    "cron lint": ["sluice cron lint cron.yaml"],
    "ui": ["sluice ui --local", "sluice ui -n team-a --port 8080"],
    "completion": ["source <(sluice completion bash)"],
}


def complete(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> None:
    """Fill in missing option help and append examples, recursively through the sub-commands."""
    noun = NOUNS.get(path[0], "workflow") if path else "workflow"
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                complete(sub, (*path, name))
        elif not action.help and action.dest in OPTION_HELP:
            action.help = OPTION_HELP[action.dest].format(noun=noun)
    examples = EXAMPLES.get(" ".join(path))
    if examples and "Examples:" not in (parser.epilog or ""):
        text = "Examples:\n" + "\n".join(f"  {line}" for line in examples)
        parser.epilog = f"{parser.epilog}\n\n{text}" if parser.epilog else text
        if parser.formatter_class is argparse.HelpFormatter:
            parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the examples' lines
