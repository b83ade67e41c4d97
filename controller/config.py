"""The controller's configuration: the `sluice-controller-config` ConfigMap, in the format of Argo's
workflow-controller-configmap: either one key `config` holding the whole YAML,
or one data key per top-level field whose value is a YAML fragment. Mixing both is an error.

Parsing is strict where a mistake would silently change behaviour (numbers, booleans); unknown keys are
kept (an Argo configuration carries UI-only keys) and reported as warnings. A ConfigMap that does not
parse leaves the previous configuration in force (controller/run.py logs why).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from controller.event_correlator import CorrelatorSettings
from controller.event_sender import UPDATE_INTERVAL
from workflow.artifact_rules import unsupported_repository
from workflow.engine import EngineConfig
from workflow.engine.clock import parse_duration

KNOWN = {
    "instanceID",
    "namespace",
    "parallelism",
    "namespaceParallelism",
    "executor",
    "executorImage",
    "mainContainer",
    "nodeEvents",
    "workflowEvents",
    "podGCGracePeriodSeconds",
    "podGCDeleteDelayDuration",
    "workflowDefaults",
    "artifactRepository",
    "workflowRestrictions",
    "initialDelay",
    "retentionPolicy",
    "resourceRateLimit",
    "links",
    "columns",
    "navColor",
    "images",
    "metricsConfig",
    "telemetryConfig",
    "events",  # Sluice's: how Kubernetes Events are correlated (controller/event_correlator.py)
}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ControllerConfig:
    instance_id: str = ""
    parallelism: int = 0
    namespace_parallelism: int = 0
    executor_image: str = ""
    executor: dict[str, Any] = field(default_factory=dict)
    main_container: dict[str, Any] = field(default_factory=dict)
    node_events: bool = True
    workflow_events: bool = True
    pod_gc_grace_seconds: int | None = None
    workflow_defaults: dict[str, Any] | None = None
    artifact_repository: dict[str, Any] | None = None
    images: dict[str, dict[str, Any]] = field(default_factory=dict)  # image -> {entrypoint, cmd}
    metrics_ttl_seconds: float | None = None  # metricsConfig.metricsTTL: custom series unchanged this long go
    events: CorrelatorSettings = field(default_factory=CorrelatorSettings)
    event_update_interval: float = UPDATE_INTERVAL  # events.updateInterval (controller/event_sender.py)
    warnings: tuple[str, ...] = ()

    def engine(self, executor_image: str) -> EngineConfig:
        return EngineConfig(
            instance_id=self.instance_id,
            executor_image=self.executor_image or executor_image,
            executor_image_pull_policy=str(self.executor.get("imagePullPolicy") or ""),
            node_events=self.node_events,
            workflow_events=self.workflow_events,
            # the pod's executor and main containers (workflow/engine/pods.py)
            executor_resources=self.executor.get("resources") or None,
            executor_security_context=self.executor.get("securityContext") or None,
            executor_env=tuple(
                e
                for e in self.executor.get("env") or ()
                if isinstance(e, dict) and isinstance(e.get("name"), str)
            ),
            main_container=self.main_container or None,
            images=self.images,
            artifact_repository=self.artifact_repository,
            workflow_defaults=self.defaults_spec(),
        )

    def defaults_spec(self) -> dict[str, Any] | None:
        """The spec of `workflowDefaults` (the engine joins it under the Workflow and its template)."""
        spec = (self.workflow_defaults or {}).get("spec")
        return spec if isinstance(spec, dict) and spec else None


def _fragment(key: str, text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"data.{key}: not YAML: {' '.join(str(exc).split())[:200]}") from None


def _int(doc: dict[str, Any], key: str) -> int:
    value = doc.get(key)
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(f"{key}: must be a whole number, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{key}: must be a whole number, got {value!r}") from None
    if number < 0:
        raise ConfigError(f"{key}: must not be negative, got {number}")
    return number


def _enabled(doc: dict[str, Any], key: str) -> bool:
    value = doc.get(key)
    if value is None:
        return True
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: must be a mapping like {{enabled: true}}")
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{key}.enabled: must be true or false, got {enabled!r}")
    return enabled


def _mapping(doc: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: must be a mapping")
    return value


def parse(data: dict[str, Any] | None) -> ControllerConfig:
    """A ConfigMap's `data` -> ControllerConfig; ConfigError names the field."""
    data = dict(data or {})
    if "config" in data:
        if len(data) > 1:
            raise ConfigError("data: `config` holds the whole configuration; do not mix it with other keys")
        doc = _fragment("config", data["config"]) or {}
        if not isinstance(doc, dict):
            raise ConfigError("data.config: must be a mapping")
    else:
        doc = {k: _fragment(k, v) for k, v in data.items()}
    warnings = tuple(f"{k}: unknown key, ignored" for k in sorted(doc) if k not in KNOWN)
    repository_problem = unsupported_repository(_mapping(doc, "artifactRepository"))
    if repository_problem:  # Argo's format, so not an error; but every pod that stores an artifact fails
        warnings += (f"artifactRepository.{repository_problem}",)
    defaults = _mapping(doc, "workflowDefaults")
    if defaults is not None and not isinstance(defaults.get("spec", {}), dict):
        raise ConfigError("workflowDefaults.spec: must be a mapping")
    grace = doc.get("podGCGracePeriodSeconds")
    image = doc.get("executorImage") or ""
    if not isinstance(image, str):
        raise ConfigError("executorImage: must be a string")
    instance = doc.get("instanceID") or ""
    if not isinstance(instance, str):
        raise ConfigError("instanceID: must be a string")
    metrics_config = _mapping(doc, "metricsConfig") or {}
    ttl_text = metrics_config.get("metricsTTL")
    ttl = _duration("metricsConfig.metricsTTL", ttl_text, "10m") if ttl_text not in (None, "") else None
    events, update_interval = _events(doc)
    return ControllerConfig(
        events=events,
        event_update_interval=update_interval,
        metrics_ttl_seconds=ttl or None,
        instance_id=instance,
        parallelism=_int(doc, "parallelism"),
        namespace_parallelism=_int(doc, "namespaceParallelism"),
        executor_image=image,
        executor=_mapping(doc, "executor") or {},
        main_container=_mapping(doc, "mainContainer") or {},
        node_events=_enabled(doc, "nodeEvents"),
        workflow_events=_enabled(doc, "workflowEvents"),
        pod_gc_grace_seconds=_int(doc, "podGCGracePeriodSeconds") if grace not in (None, "") else None,
        workflow_defaults=defaults,
        artifact_repository=_mapping(doc, "artifactRepository"),
        images=_images(doc),
        warnings=warnings,
    )


def _images(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`images: {IMAGE: {entrypoint: [...], cmd: [...]}}`: what a container with no `command` runs."""
    images = _mapping(doc, "images") or {}
    out = {}
    for image, entry in images.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"images.{image}: must be a mapping with entrypoint and/or cmd")
        for key in ("entrypoint", "cmd"):
            if key in entry and not (
                isinstance(entry[key], list) and all(isinstance(x, str) for x in entry[key])
            ):
                raise ConfigError(f"images.{image}.{key}: must be a list of strings")
        out[str(image)] = {k: list(entry[k]) for k in ("entrypoint", "cmd") if k in entry}
    return out


# events.<key> -> (field, kind): Sluice's own section, client-go's CorrelatorOptions (CorrelatorSettings'
# fields) and the sender's spacing of writes to one Event
EVENT_KEYS = {
    "spamBurst": ("spam_burst", "count"),
    "spamRefill": ("spam_refill_seconds", "duration"),
    "aggregateMaxEvents": ("aggregate_max_events", "count"),
    "aggregateInterval": ("aggregate_interval_seconds", "duration"),
    "cacheEntries": ("cache_entries", "count"),
    "aggregateWithAnnotations": ("aggregate_with_annotations", "bool"),
    "updateInterval": ("update_interval", "duration"),
}


def _events(doc: dict[str, Any]) -> tuple[CorrelatorSettings, float]:
    """`events: {spamBurst: 10000, spamRefill: 5m, aggregateMaxEvents: 10, aggregateInterval: 10m,
    cacheEntries: 4096, aggregateWithAnnotations: false, updateInterval: 1s}`, each optional."""
    section = _mapping(doc, "events") or {}
    unknown = sorted(set(section) - set(EVENT_KEYS))
    if unknown:
        raise ConfigError(f"events.{unknown[0]}: unknown key (known: {', '.join(EVENT_KEYS)})")
    values: dict[str, Any] = {}
    for key, (name, kind) in EVENT_KEYS.items():
        if section.get(key) is None:
            continue
        value = section[key]
        if kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"events.{key}: must be true or false, got {value!r}")
        elif kind == "count":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"events.{key}: must be a whole number of at least 1, got {value!r}")
        else:
            value = _duration(f"events.{key}", value, "5m, 1s")
        values[name] = value
    interval = values.pop("update_interval", UPDATE_INTERVAL)
    return CorrelatorSettings(**values), interval


def _duration(path: str, value: Any, example: str) -> float:
    seconds = parse_duration(value)
    if seconds is None or seconds < 0:
        raise ConfigError(f"{path}: {str(value)[:40]!r} is not a duration (e.g. {example})")
    return seconds
