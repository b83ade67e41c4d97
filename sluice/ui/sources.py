"""Where `sluice ui` reads workflows from: the runs of `sluice run` on this machine, or a cluster.

Both sources reuse the CLI's readers rather than their own: local runs through sluice/localruns.py and
sluice/runner/state.py, a cluster through sluice/cluster.py (the user's kubeconfig, so their own RBAC),
sluice/commands/list.py `fetch`, sluice/commands/logs.py `print_logs`, and one workflow's changes through
kube/informer.py (list then watch, resumed on expiry). Actions are the CLI's own code
(sluice/commands/control.py, retry.py, resume.py; sluice/ui/actions.py).

Failures are `UiError(http status, one line)`; the API turns them into JSON errors, never a traceback.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sluice.labels import label_match
from sluice.output import DONE, phase, with_nodes

ARGO_GROUP, ARGO_VERSION = "argoproj.io", "v1alpha1"
LOCAL_POLL = 0.25  # seconds between looks at a local run's workflow.json
LOG_QUEUE = 10_000  # lines held for a slow browser before later ones are dropped (and counted)


class UiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def from_cli(exc: Exception) -> UiError:
    """A CliError (sluice/cluster.py) or ApiError (kube/rest.py) as an HTTP status and one line."""
    from sluice.cli import EXIT_NOT_FOUND, EXIT_UNREACHABLE, EXIT_USAGE  # noqa: PLC0415

    status = getattr(exc, "status", None)
    if isinstance(status, int) and status:  # ApiError: the API server's own answer
        from sluice.cluster import api_error_line  # noqa: PLC0415

        return UiError(status if 400 <= status < 600 else 502, api_error_line(exc))
    code = getattr(exc, "code", None)
    http = {EXIT_NOT_FOUND: 404, EXIT_USAGE: 400, EXIT_UNREACHABLE: 502}.get(code, 409)
    return UiError(http, getattr(exc, "message", None) or str(exc) or type(exc).__name__)


def pod_name(wf: dict[str, Any], node: dict[str, Any]) -> str | None:
    if node.get("type") != "Pod":
        return None
    from workflow.names import pod_name as name_of  # noqa: PLC0415

    template = (node.get("templateRef") or {}).get("template") or node.get("templateName")
    return str(name_of(wf["metadata"]["name"], node["name"], template))


def artifact_key(artifact: dict[str, Any]) -> str:
    """The key of an artifact's location (`s3: {key}` with the default repository, as Argo reports it)."""
    for kind in ("s3", "gcs", "oss", "azure", "hdfs", "artifactory"):
        where = artifact.get(kind)
        if isinstance(where, dict):
            return str(where.get("key") or where.get("blob") or where.get("path") or where.get("url") or "")
    return ""


class Source:
    """What the API needs from where workflows live (LocalSource, ClusterSource)."""

    mode = "?"
    namespace = "default"
    artifact_copies = False  # whether `artifact` returns a temporary copy (removed once sent)

    async def workflows(self, namespace: str | None, selector: str | None) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def workflow(self, namespace: str, name: str) -> dict[str, Any]:
        raise NotImplementedError

    def changes(self, namespace: str, name: str) -> AsyncIterator[dict[str, Any]]:
        raise NotImplementedError

    def logs(
        self, namespace: str, name: str, node: str | None, follow: bool, container: str
    ) -> AsyncIterator[tuple[str, str]]:
        raise NotImplementedError

    async def objects(self, kind: str, namespace: str | None) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def artifact(self, namespace: str, name: str, artifact: dict[str, Any]) -> Path:
        """The file holding one of a node's artifacts (as its status names it)."""
        raise UiError(501, f"no artifact store here (the artifact's key is {artifact_key(artifact)!r})")

    async def close(self) -> None:
        return None


# --- local runs ------------------------------------------------------------------------------------


class LocalSource(Source):
    """The runs of `sluice run` (sluice/localruns.py): namespace is the one written in each run."""

    mode = "local"

    async def workflows(self, namespace: str | None, selector: str | None) -> list[dict[str, Any]]:
        from sluice.localruns import all_runs  # noqa: PLC0415

        runs = await asyncio.to_thread(all_runs)
        return [
            wf
            for wf in runs
            if (not namespace or wf["metadata"].get("namespace", "default") == namespace)
            and label_match(wf["metadata"].get("labels") or {}, selector)
        ]

    async def workflow(self, namespace: str, name: str) -> dict[str, Any]:
        from sluice.cluster import CliError  # noqa: PLC0415
        from sluice.localruns import load  # noqa: PLC0415

        try:
            wf = await asyncio.to_thread(load, name)
        except CliError as exc:
            raise from_cli(exc) from None
        if wf["metadata"].get("namespace", "default") != namespace:
            raise UiError(404, f"no local run named {name!r} in namespace {namespace!r}")
        return wf

    def _file(self, name: str) -> Path:
        from sluice.runner import state  # noqa: PLC0415

        return state.run_dir(name) / "workflow.json"

    async def changes(self, namespace: str, name: str) -> AsyncIterator[dict[str, Any]]:
        """The run each time its workflow.json is rewritten (the runner writes it after every step)."""
        path, seen = self._file(name), object()  # the first look always reads (and 404s if missing)
        done = False
        while True:
            mark: object
            try:
                st = path.stat()
                mark = (st.st_mtime_ns, st.st_size, st.st_ino)
            except OSError:
                mark = None
            if mark != seen:
                seen = mark
                wf = await self.workflow(namespace, name)
                yield wf
                done = phase(wf) in DONE
            # checked on every look: the runner removes its pid file after writing the last status
            if done and not self.active(name):
                return
            await asyncio.sleep(LOCAL_POLL)

    def active(self, name: str) -> bool:
        from sluice.runner import state  # noqa: PLC0415

        return name in state.active_runs()

    async def logs(
        self, namespace: str, name: str, node: str | None, follow: bool, container: str
    ) -> AsyncIterator[tuple[str, str]]:
        """Each step's output file (sluice/localruns.py `pod_logs`), followed while the run is running."""
        from sluice.localruns import pod_logs  # noqa: PLC0415

        offsets: dict[Path, int] = {}
        partial: dict[Path, str] = {}
        while True:
            wf = await self.workflow(namespace, name)
            running = phase(wf) not in DONE and self.active(name)
            for label, path in pod_logs(wf, node, container):
                start = offsets.get(path, 0)
                try:
                    with path.open("rb") as fh:
                        fh.seek(start)
                        chunk = fh.read(1 << 20)  # bounded per round: a big output streams over rounds
                except OSError:
                    continue
                offsets[path] = start + len(chunk)
                text = partial.pop(path, "") + chunk.decode("utf-8", "replace")
                lines = text.split("\n")
                if lines[-1]:
                    partial[path] = lines[-1]
                for line in lines[:-1]:
                    yield label, line
            more = any(p.stat().st_size > o for p, o in offsets.items() if p.exists())
            if more:
                continue
            if not (follow and running):
                for path, rest in partial.items():
                    yield next((lb for lb, p in pod_logs(wf, node, container) if p == path), ""), rest
                return
            await asyncio.sleep(LOCAL_POLL)

    async def objects(self, kind: str, namespace: str | None) -> list[dict[str, Any]]:
        return []  # CronWorkflows and WorkflowTemplates live on a cluster only

    async def artifact(self, namespace: str, name: str, artifact: dict[str, Any]) -> Path:
        """The file of the run's artifact directory (sluice/runner/artifacts.py: `<run>/artifacts/<key>`)."""
        from sluice.runner import state  # noqa: PLC0415

        key = artifact_key(artifact)
        root = (state.run_dir(name) / "artifacts").resolve()
        path = (root / key).resolve() if key else root
        if not key or root not in path.parents:  # the key comes from a status: never outside the run
            raise UiError(404, f"artifact {artifact.get('name')!r} has no file in this run")
        if not path.is_file():
            raise UiError(
                404, f"artifact {artifact.get('name')!r}: {key} is not in the run's artifact directory"
            )
        return path


# --- a cluster -------------------------------------------------------------------------------------


class ClusterSource(Source):
    """A cluster through the user's kubeconfig (sluice/cluster.py `connect`): their identity, their RBAC."""

    mode = "cluster"
    artifact_copies = True

    def __init__(self, cluster: Any, context: str | None = None, owned: bool = True) -> None:
        self.cluster, self.owned = cluster, owned
        self.namespace = cluster.namespace
        self.context = context

    @classmethod
    async def connect(cls, args: Any) -> ClusterSource:
        from sluice.cluster import connect  # noqa: PLC0415

        return cls(await connect(args), getattr(args, "context", None))

    def at(self, namespace: str) -> Any:
        """The CLI's Cluster object pointed at `namespace` (its verbs act on `cluster.namespace`)."""
        return dataclasses.replace(self.cluster, namespace=namespace)

    async def _call(self, awaitable: Any) -> Any:
        import aiohttp  # noqa: PLC0415

        from kube.rest import ApiError  # noqa: PLC0415
        from sluice.cluster import CliError  # noqa: PLC0415

        try:
            return await awaitable
        except (ApiError, CliError) as exc:
            raise from_cli(exc) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise UiError(502, f"cannot reach the cluster: {str(exc) or type(exc).__name__}") from None

    async def workflows(self, namespace: str | None, selector: str | None) -> list[dict[str, Any]]:
        from sluice.commands.list import fetch  # noqa: PLC0415

        everywhere = not namespace
        return await self._call(fetch(self.at(namespace or self.namespace), selector, everywhere))

    async def workflow(self, namespace: str, name: str) -> dict[str, Any]:
        from sluice.cluster import ARGO  # noqa: PLC0415

        wf = await self._call(self.cluster.rest.get(ARGO, "Workflow", namespace, name))
        return with_nodes(wf)

    async def changes(self, namespace: str, name: str) -> AsyncIterator[dict[str, Any]]:
        """The workflow as a watch (kube/informer.py) sees it change; ends when it is deleted."""
        from kubernetes_asyncio import client  # noqa: PLC0415

        from kube.informer import Informer  # noqa: PLC0415

        first = await self.workflow(namespace, name)  # a missing workflow is a 404 before the stream
        yield first
        queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(maxsize=64)

        def put(kind: str, obj: dict[str, Any]) -> None:
            if queue.full():  # only the latest state matters: drop the oldest
                queue.get_nowait()
            queue.put_nowait((kind, obj))

        api = client.CustomObjectsApi(self.cluster.api_client)
        informer = Informer(
            f"ui:{namespace}/{name}",
            api.list_namespaced_custom_object,
            {
                "group": ARGO_GROUP,
                "version": ARGO_VERSION,
                "namespace": namespace,
                "plural": "workflows",
                "field_selector": f"metadata.name={name}",
            },
            on_list=lambda items: [put("MODIFIED", i) for i in items] and None,
            on_event=put,
        )
        task = asyncio.create_task(informer.run())
        seen = first["metadata"].get("resourceVersion")  # the watch's first list repeats it: not sent again
        try:
            while True:
                kind, obj = await queue.get()
                if kind == "DELETED":
                    return
                version = (obj.get("metadata") or {}).get("resourceVersion")
                if version != seen:
                    seen = version
                    yield with_nodes(obj)
        finally:
            task.cancel()

    async def logs(
        self, namespace: str, name: str, node: str | None, follow: bool, container: str
    ) -> AsyncIterator[tuple[str, str]]:
        """The pods' logs through sluice/commands/logs.py `print_logs`, its lines handed over a queue."""
        from sluice.commands.logs import print_logs  # noqa: PLC0415

        queue: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue(maxsize=LOG_QUEUE)
        dropped = 0

        def emit(label: str, line: str) -> None:
            nonlocal dropped
            try:
                queue.put_nowait((label, line))
            except asyncio.QueueFull:
                dropped += 1

        async def pump() -> None:
            try:
                await self._call(
                    print_logs(
                        self.at(namespace),
                        name,
                        node,
                        container=container,
                        since=None,
                        follow=follow,
                        emit=emit,
                    )
                )
            finally:
                await queue.put(None)

        task = asyncio.create_task(pump())
        try:
            while (item := await queue.get()) is not None:
                yield item
            if dropped:
                yield "", f"({dropped} lines dropped: the browser read slower than the pods wrote)"
            await task  # its error, if any, reaches the caller
        finally:
            task.cancel()

    async def objects(self, kind: str, namespace: str | None) -> list[dict[str, Any]]:
        from sluice.resources import Verbs  # noqa: PLC0415

        verbs = Verbs("ui", kind, kind, lambda items, now: [])
        return await self._call(verbs.fetch(self.at(namespace or self.namespace), None, not namespace))

    async def artifact(self, namespace: str, name: str, artifact: dict[str, Any]) -> Path:
        """The artifact fetched from its store into a temporary file (the caller removes it): the location
        completed from the workflow's resolved repository (workflow/artifact_rules.py `relocate`), the
        store's credentials read from their Secrets with the viewer's own token, the bytes moved by the
        executor's driver (sluice_executor/drivers/)."""
        import base64  # noqa: PLC0415
        import tempfile  # noqa: PLC0415

        from sluice_executor.drivers import DriverError, driver_for  # noqa: PLC0415

        from workflow.artifact_rules import ArtifactRuleError, location_kind, relocate  # noqa: PLC0415

        wf = await self.workflow(namespace, name)
        repo = ((wf.get("status") or {}).get("artifactRepositoryRef") or {}).get("artifactRepository")
        try:
            full = relocate(artifact, repo)
            kind = location_kind(full)
        except ArtifactRuleError as exc:
            raise UiError(409, str(exc)) from None
        if kind is None:
            raise UiError(404, f"artifact {artifact.get('name')!r} has no location")
        location = full[kind]
        values: dict[tuple[str, str], str] = {}
        for field, ref in location.items():
            if not (
                field.endswith("Secret") and isinstance(ref, dict) and ref.get("name") and ref.get("key")
            ):
                continue
            try:
                secret = await self._call(self.cluster.rest.get("v1", "Secret", namespace, str(ref["name"])))
            except UiError as exc:
                raise UiError(
                    exc.status,
                    f"the store's credentials (Secret {ref['name']}, {field}) cannot be read with your "
                    f"identity: {exc.message}",
                ) from None
            raw = (secret.get("data") or {}).get(str(ref["key"]))
            if raw is None:
                raise UiError(409, f"Secret {ref['name']} has no key {ref['key']!r}")
            values[(str(ref["name"]), str(ref["key"]))] = base64.b64decode(raw).decode()

        class Known:
            def get(self, selector: Any) -> str:
                return values[(str(selector["name"]), str(selector["key"]))]

        folder = Path(tempfile.mkdtemp(prefix="sluice-ui-artifact-"))
        target = folder / (str(artifact.get("name") or "artifact") + (".tgz" if kind != "raw" else ""))
        try:
            await asyncio.to_thread(driver_for(kind, Known()).get, location, target)
        except DriverError as exc:
            _remove(folder)
            raise UiError(502, f"artifact {artifact.get('name')!r}: {exc}") from None
        if not target.is_file():  # a directory (a prefix of objects): not offered as one download
            _remove(folder)
            raise UiError(409, f"artifact {artifact.get('name')!r} is a directory of objects in its store")
        return target

    async def allowed(self, namespace: str, checks: dict[str, tuple[str, str]]) -> dict[str, bool]:
        """SelfSubjectAccessReview of each (verb, resource[/subresource]) on argoproj.io in `namespace`."""

        async def review(verb: str, resource: str) -> bool:
            res, _, sub = resource.partition("/")
            body = {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {
                    "resourceAttributes": {
                        "namespace": namespace,
                        "verb": verb,
                        "group": ARGO_GROUP if res != "pods" else "",
                        "resource": res,
                        "subresource": sub,
                    }
                },
            }
            answer = await self._call(
                self.cluster.rest.request(
                    "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body
                )
            )
            return bool((answer.get("status") or {}).get("allowed"))

        keys = list(checks)
        results = await asyncio.gather(*(review(*checks[k]) for k in keys))
        return dict(zip(keys, results, strict=True))

    async def close(self) -> None:
        if self.owned:  # else whoever connected closes it (sluice/cluster.py `run_verb`)
            await self.cluster.close()


def local_pid(name: str) -> int | None:
    from sluice.runner import state  # noqa: PLC0415

    return state.running_pid(state.run_dir(name))


def _remove(folder: Path) -> None:
    import shutil  # noqa: PLC0415

    shutil.rmtree(folder, ignore_errors=True)
