"""What the pod tells its executor: paths of the shared volumes and the `ARGO_*` environment that
workflow/engine/pods.py writes on `init` and `wait` (Argo's executor reads the same variables)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OFFLOADED = "offloaded"


class PodEnvError(Exception):
    """The pod lacks what the executor needs (a bad pod, never the user's workflow)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """The executor's directories. Tests point them at a temporary folder (SLUICE_* variables)."""

    run: Path = Path("/var/run/argo")  # var-run-argo, shared with every container
    staging: Path = Path("/argo/staging")  # argo-staging: the script
    inputs: Path = Path("/argo/inputs/artifacts")  # input-artifacts: one subPath per artifact
    secrets: Path = Path("/argo/secret")  # artifact credentials: /argo/secret/<secret>/<key>
    mainctrfs: Path = Path("/mainctrfs")  # main's volumes, mirrored into wait
    config: Path = Path("/argo/config")  # an offloaded template (ARGO_TEMPLATE=offloaded): its ConfigMap
    termination_log: Path = Path("/dev/termination-log")

    def ctr(self, name: str) -> Path:
        return self.run / "ctr" / name

    @property
    def template(self) -> Path:
        return self.run / "template"

    @property
    def launcher(self) -> Path:
        return self.run / "launcher"

    def output_copy(self, kind: str, path: str) -> Path:
        """Where the launcher copied a declared output path (`parameters` or `artifacts`)."""
        return self.run / "outputs" / kind / path.lstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Layout:
        default = cls()
        return cls(
            run=Path(env.get("SLUICE_RUN_DIR") or default.run),
            staging=Path(env.get("SLUICE_STAGING_DIR") or default.staging),
            inputs=Path(env.get("SLUICE_INPUTS_DIR") or default.inputs),
            secrets=Path(env.get("SLUICE_SECRETS_DIR") or default.secrets),
            mainctrfs=Path(env.get("SLUICE_MAINCTRFS") or default.mainctrfs),
            config=Path(env.get("SLUICE_CONFIG_DIR") or default.config),
            termination_log=Path(env.get("SLUICE_TERMINATION_LOG") or default.termination_log),
        )


@dataclass(frozen=True, slots=True)
class PodEnv:
    layout: Layout
    template: dict[str, Any]
    pod_name: str
    namespace: str
    workflow_name: str
    workflow_uid: str
    node_id: str
    include_result: bool
    instance_id: str = ""
    progress_file: str = ""
    main_containers: tuple[str, ...] = ("main",)
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PodEnv:
        env = os.environ if env is None else env
        layout = Layout.from_env(env)
        text = env.get("ARGO_TEMPLATE")
        if text == OFFLOADED:  # too long for a variable: in a ConfigMap (workflow/engine/pod_offload.py)
            try:
                text = (layout.config / "ARGO_TEMPLATE").read_text()
            except OSError as exc:
                raise PodEnvError(
                    f"ARGO_TEMPLATE is offloaded but {layout.config} cannot be read: {exc}"
                ) from None
        if not text:  # main of a resource template: init wrote the template into the shared volume
            try:
                text = layout.template.read_text()
            except OSError:
                text = ""
        missing = [k for k in ("ARGO_NODE_ID", "ARGO_WORKFLOW_NAME", "ARGO_POD_NAME") if not env.get(k)]
        if not text:
            missing.insert(0, "ARGO_TEMPLATE")
        if missing:
            raise PodEnvError(f"the pod does not set {', '.join(missing)} on this container")
        try:
            template = json.loads(text)
        except ValueError as exc:
            raise PodEnvError(f"ARGO_TEMPLATE is not JSON: {exc}") from exc
        if not isinstance(template, dict):
            raise PodEnvError("ARGO_TEMPLATE is not a template object")
        members = ("main",)
        container_set = template.get("containerSet")
        if isinstance(container_set, dict):
            names = [c.get("name") for c in container_set.get("containers") or () if isinstance(c, dict)]
            members = tuple(str(n) for n in names if n) or members
        return cls(
            layout=layout,
            template=template,
            pod_name=env["ARGO_POD_NAME"],
            namespace=env.get("ARGO_NAMESPACE") or _namespace_file(),
            workflow_name=env["ARGO_WORKFLOW_NAME"],
            workflow_uid=env.get("ARGO_WORKFLOW_UID", ""),
            node_id=env["ARGO_NODE_ID"],
            include_result=env.get("ARGO_INCLUDE_SCRIPT_OUTPUT") == "true",
            instance_id=env.get("ARGO_INSTANCE_ID", ""),
            progress_file=env.get("ARGO_PROGRESS_FILE", ""),
            main_containers=members,
        )


def _namespace_file() -> str:
    path = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    try:
        return path.read_text().strip()
    except OSError:
        return "default"
