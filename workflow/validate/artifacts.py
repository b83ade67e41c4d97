"""Artifact locations, pod-level resources and synchronization: the small structural checks that
several places share (and the CRD's rules for them)."""

from __future__ import annotations

from typing import Any

from workflow.artifact_rules import GCS_NEEDS_KEY, UNSUPPORTED_KINDS, unsupported
from workflow.errors import child
from workflow.merge import ARTIFACT_LOCATIONS
from workflow.validate.context import Ctx, Job
from workflow.validate.util import enum_message, get_list, get_map, get_str, has, key_child, named

ARCHIVE_KINDS = ("tar", "none", "zip")
GC_STRATEGIES = ("", "OnWorkflowCompletion", "OnWorkflowDeletion", "Never")
ADDRESSING_STYLES = ("", "path", "virtual-hosted")
# The field of each store that names an object by a `/`-separated key (issue 13 item 5: `..` in a key
# reached outside a directory-backed repository).
_KEY_FIELDS = (("s3", "key"), ("oss", "key"), ("gcs", "key"), ("azure", "blob"))


def check_location(ctx: Ctx, job: Job | None, loc: dict[str, Any] | None, path: str) -> None:
    """One ArtifactLocation: at most one driver, and the fields each driver needs."""
    if loc is None:
        return
    kinds = [k for k in ARTIFACT_LOCATIONS if loc.get(k) is not None]
    if len(kinds) > 1:
        ctx.error(job, path, f"at most one artifact location can be specified (found {', '.join(kinds)})")
    for kind, field in _KEY_FIELDS:
        store = get_map(loc, kind)
        key = get_str(store, field) if store is not None else ""
        if key and ".." in key.split("/"):
            ctx.error(
                job,
                child(child(path, kind), field),
                f"{kind}.{field} may not contain '..' segments: a key names an object in the repository, "
                f"it cannot climb out of its prefix",
            )
    _check_supported(ctx, job, loc, path)
    git = get_map(loc, "git")
    if git is not None and not get_str(git, "repo"):
        ctx.error(job, child(child(path, "git"), "repo"), "git.repo is required")
    hdfs = get_map(loc, "hdfs")
    if hdfs is not None:
        _check_hdfs(ctx, job, hdfs, child(path, "hdfs"))
    s3 = get_map(loc, "s3")
    style = s3.get("addressingStyle") if s3 else None
    if isinstance(style, str) and style not in ADDRESSING_STYLES:
        ctx.error(
            job,
            child(child(path, "s3"), "addressingStyle"),
            f'unsupported value: "{style}": supported values: "path", "virtual-hosted"',
        )


def _check_supported(ctx: Ctx, job: Job | None, loc: dict[str, Any], path: str) -> None:
    """Locations Argo accepts and Sluice's executor cannot move: a warning on the field (an error would
    refuse Argo's own examples), so lint and admission say it before a node fails on it."""
    for kind in UNSUPPORTED_KINDS:
        if loc.get(kind) is not None:
            ctx.warn(job, child(path, kind), f"{unsupported(kind)}: a node that moves this artifact fails")
    auth = get_map(get_map(loc, "http") or {}, "auth") or {}
    for method in ("oauth2", "clientCert"):
        if auth.get(method) is not None:
            ctx.warn(
                job,
                child(child(child(path, "http"), "auth"), method),
                f"http artifacts with {method} auth are not supported by Sluice's executor (basicAuth is): "
                "a node that moves this artifact fails",
            )
    gcs = get_map(loc, "gcs")
    # a key-only location (no bucket) takes its key Secret from the repository
    if gcs is not None and get_str(gcs, "bucket") and not has(gcs, "serviceAccountKeySecret"):
        ctx.warn(job, child(path, "gcs"), f"{GCS_NEEDS_KEY}: a node that moves this artifact fails")


def _check_hdfs(ctx: Ctx, job: Job | None, hdfs: dict[str, Any], path: str) -> None:
    if not get_list(hdfs, "addresses"):
        ctx.error(job, child(path, "addresses"), "hdfs.addresses is required")
    hdfs_path = get_str(hdfs, "path")
    if hdfs_path and not hdfs_path.startswith("/") and "{{" not in hdfs_path:
        ctx.error(job, child(path, "path"), "hdfs.path must be a absolute file path")
    ccache, keytab = has(hdfs, "krbCCacheSecret"), has(hdfs, "krbKeytabSecret")
    if not get_str(hdfs, "hdfsUser") and not ccache and not keytab:
        ctx.error(job, path, "either hdfs.hdfsUser, hdfs.krbCCacheSecret or hdfs.krbKeytabSecret is required")
    principal, config = get_str(hdfs, "krbServicePrincipalName"), has(hdfs, "krbConfigConfigMap")
    if keytab and not (principal and config and get_str(hdfs, "krbUsername") and get_str(hdfs, "krbRealm")):
        ctx.error(
            job,
            path,
            "hdfs.krbServicePrincipalName, hdfs.krbConfigConfigMap, hdfs.krbUsername and "
            "hdfs.krbRealm are required with hdfs.krbKeytabSecret",
        )
    if ccache and not (principal and config):
        ctx.error(
            job,
            path,
            "hdfs.krbServicePrincipalName and hdfs.krbConfigConfigMap are required with hdfs.krbCCacheSecret",
        )


def check_artifact(ctx: Ctx, job: Job | None, art: dict[str, Any], path: str) -> None:
    """An Artifact: its location, mode, archive strategy and GC strategy."""
    check_location(ctx, job, art, path)
    mode = art.get("mode")
    if isinstance(mode, int) and not isinstance(mode, bool) and not 0 <= mode <= 511:
        ctx.error(job, child(path, "mode"), f"mode must be between 0 and 511 (0777), got {mode}")
    archive = get_map(art, "archive")
    if archive is not None:
        kinds = [k for k in ARCHIVE_KINDS if archive.get(k) is not None]
        if len(kinds) > 1:
            ctx.error(
                job,
                child(path, "archive"),
                f"at most one archive strategy can be specified (found {', '.join(kinds)})",
            )
    gc = get_map(art, "artifactGC")
    strategy = gc.get("strategy") if gc else None
    if isinstance(strategy, str) and strategy not in GC_STRATEGIES:
        ctx.error(job, child(child(path, "artifactGC"), "strategy"), enum_message(strategy, GC_STRATEGIES))


def check_pod_resources(ctx: Ctx, job: Job | None, resources: Any, path: str) -> None:
    """Pod-level resources: cpu, memory and hugepages-* only, no claims (validate.go)."""
    if not isinstance(resources, dict):
        return
    if resources.get("claims") is not None:
        ctx.error(job, child(path, "claims"), "claims is not supported for pod-level resources")
    for field in ("requests", "limits"):
        for name in get_map(resources, field) or {}:
            if name not in ("cpu", "memory") and not str(name).startswith("hugepages-"):
                ctx.error(
                    job,
                    key_child(child(path, field), str(name)),
                    f'"{name}" is not a valid pod-level resource, only cpu, memory and hugepages-* are supported',
                )


def check_synchronization(ctx: Ctx, job: Job | None, sync: dict[str, Any] | None, path: str) -> None:
    if sync is None:
        return
    # v3's `semaphore` / `mutex` are already in the lists (workflow/parse/normalise.py; paths map back).
    semaphores = [(child(child(path, "semaphores"), i), s) for i, s in named(get_list(sync, "semaphores"))]
    for at, sem in semaphores:
        sources = [k for k in ("configMapKeyRef", "database") if sem.get(k) is not None]
        if len(sources) != 1:
            ctx.error(job, at, "a semaphore needs exactly one of configMapKeyRef or database")
        ref = get_map(sem, "configMapKeyRef")
        if ref is not None and not get_str(ref, "key"):
            ctx.error(job, child(child(at, "configMapKeyRef"), "key"), "configMapKeyRef.key is required")
    mutexes = [(child(child(path, "mutexes"), i), m) for i, m in named(get_list(sync, "mutexes"))]
    for at, mutex in mutexes:
        if not get_str(mutex, "name"):
            ctx.error(job, child(at, "name"), "a mutex needs a name")
