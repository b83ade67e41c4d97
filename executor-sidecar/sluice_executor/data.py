"""Data templates (`sluice executor data`): the pod's main lists an artifact location and transforms
the list with expressions; the node's `result` is the JSON of what is left (as Argo's `argoexec data`).

`source.artifactPaths` is an artifact (S3, GCS or Azure: a full location, or key-only completed from the
repository) whose key is a prefix: every object under it is listed. Each `transformation[].expression` is an expr-lang
expression over `data` (workflow/expr), e.g. `filter(data, {# endsWith "main.log"})`; its value
becomes the next `data`. The result goes to the node's WorkflowTaskResult; an error to the termination
log, with exit code 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sluice_executor.drivers import DriverError
from sluice_executor.podenv import PodEnv
from sluice_executor.taskresult import Reporter, ResultAPI, ResultAPIError
from sluice_executor.wait import conclude, report_then_finish
from workflow import artifact_rules as rules
from workflow.expr import compile_expr


class DataError(Exception):
    pass


def transform(data: Any, transformations: Any) -> Any:
    """Apply the expressions in order (pure)."""
    for index, step in enumerate(transformations or ()):
        expression = step.get("expression") if isinstance(step, dict) else None
        if not isinstance(expression, str) or not expression.strip():
            raise DataError(f"data.transformation[{index}]: only `expression` transformations are supported")
        try:
            data = compile_expr(expression).run({"data": data})
        except Exception as exc:  # the expression's own parse or runtime error, named by its index
            raise DataError(f"data.transformation[{index}]: {exc}") from None
    return data


def source_paths(env: PodEnv, data: dict[str, Any], drivers: Callable[[str], Any]) -> list[str]:
    source = data.get("source") or {}
    art = source.get("artifactPaths") if isinstance(source, dict) else None
    if not isinstance(art, dict):
        raise DataError("data.source: only artifactPaths is supported")
    location_repo = env.template.get("archiveLocation")
    try:
        kind, location = rules.input_location(art, location_repo if isinstance(location_repo, dict) else None)
    except rules.ArtifactRuleError as exc:
        raise DataError(f"data.source.artifactPaths: {exc}") from None
    driver = drivers(kind)
    if not hasattr(driver, "list"):
        raise DataError(f"data.source.artifactPaths: {kind} locations cannot be listed")
    return list(driver.list(location))


async def run_data(env: PodEnv, drivers: Callable[[str], Any], results: ResultAPI) -> int:
    reporter = Reporter(results, env)
    errors: list[str] = []
    outputs: dict[str, Any] = {}
    try:
        await reporter.start()
        data = env.template.get("data")
        if not isinstance(data, dict):
            raise DataError("the template is not a data template")
        paths = source_paths(env, data, drivers)
        value = transform(paths, data.get("transformation"))
        outputs["result"] = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    except (DataError, DriverError, ResultAPIError) as exc:
        errors.append(str(exc))
    finally:
        await report_then_finish(reporter, outputs, errors)
    return conclude(env.layout.termination_log, errors, "data")
