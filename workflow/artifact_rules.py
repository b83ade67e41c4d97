"""Where an artifact goes and how it is packed: the rules the executor and the local runner share.

Argo's archive strategies, default artifact repository, key-only artifacts, and the artifacts it stores
in node outputs:

* archive strategies: tar+gzip by default (`archive: {tar: {compressionLevel: N}}` sets the level),
  `none` (the file or directory as it is), `zip`;
* the object's file name: `<name>.tgz`, `<name>.zip`, or with `none` the basename of `path`;
* an output artifact with no location goes to the template's `archiveLocation` (the repository, key
  `<keyFormat, default {{workflow.name}}/{{pod.name}}>/<file name>`); one with a key-only location
  (`s3: {key: k}`) keeps its key and takes everything else from the repository (Argo's `Relocate`);
  a full location is used as it is;
* the reported artifact carries the key the object was written to; when the location came from the
  repository only the key is reported (the bucket and endpoint are the repository's).

Pure: no I/O, the callers move the bytes (executor-sidecar/sluice_executor/, sluice/runner/).
"""

from __future__ import annotations

import copy
import posixpath
from dataclasses import dataclass
from typing import Any

# Location kinds an artifact may name (at most one each; workflow/types/artifacts.py).
LOCATION_KINDS = ("s3", "gcs", "azure", "oss", "hdfs", "artifactory", "http", "git", "raw", "plugin")
# Kinds Sluice's executor moves (executor-sidecar/sluice_executor/drivers/); the others are valid Argo
# but refused: at lint/admission as a warning on the field (workflow/validate/artifacts.py), at run time
# as the node's error.
EXECUTOR_KINDS = ("s3", "gcs", "azure", "http", "artifactory", "git", "raw")
UNSUPPORTED_KINDS = tuple(kind for kind in LOCATION_KINDS if kind not in EXECUTOR_KINDS)
GCS_NEEDS_KEY = "GCS artifacts need serviceAccountKeySecret; workload identity is not supported"

# Kinds with a `key` that a repository can supply the rest of (bucket, container, endpoint, credentials).
KEYED_KINDS = ("s3", "gcs", "azure", "oss", "hdfs", "artifactory", "plugin")
KEY_FIELD = {
    "s3": "key",
    "gcs": "key",
    "azure": "blob",
    "oss": "key",
    "hdfs": "path",
    "artifactory": "url",
    "plugin": "key",
}
# The field without which a location is key-only (Argo's HasLocation, per driver).
WHERE_FIELD = {
    "s3": "bucket",
    "gcs": "bucket",
    "azure": "container",
    "oss": "bucket",
    "hdfs": "addresses",
    "artifactory": "url",
    "plugin": "name",
}
DEFAULT_KEY_FORMAT = "{{workflow.name}}/{{pod.name}}"
LOGS_ARTIFACT = "main-logs"
LOGS_FILE = "main.log"
DEFAULT_COMPRESSION = 6  # gzip's default, as Go's compress/gzip DefaultCompression


class ArtifactRuleError(ValueError):
    """An artifact the rules cannot place (no location and no repository, two locations...)."""


def unsupported(kind: str) -> str:
    """The one wording of a location kind the executor cannot move (lint, admission, config, run time)."""
    return f"{kind} artifacts are not supported by Sluice's executor (supported: {', '.join(EXECUTOR_KINDS)})"


def unsupported_repository(repo: Any) -> str | None:
    """Why Sluice's executor cannot use an artifact repository (`artifactRepository`, an
    `artifact-repositories` entry), as `<kind>: <reason>`; None when it can."""
    if not isinstance(repo, dict):
        return None
    for kind in UNSUPPORTED_KINDS:
        if isinstance(repo.get(kind), dict):
            return f"{kind}: {unsupported(kind)}"
    gcs = repo.get("gcs")
    if isinstance(gcs, dict) and not isinstance(gcs.get("serviceAccountKeySecret"), dict):
        return f"gcs: {GCS_NEEDS_KEY}"
    return None


@dataclass(frozen=True, slots=True)
class Archive:
    kind: str  # "tgz" | "none" | "zip"
    level: int = DEFAULT_COMPRESSION


def archive(art: dict[str, Any]) -> Archive:
    """How an output artifact is packed."""
    strategy = art.get("archive")
    if not isinstance(strategy, dict) or not strategy:
        return Archive("tgz")
    if "none" in strategy:
        return Archive("none")
    if "zip" in strategy:
        return Archive("zip")
    tar = strategy.get("tar")
    level = tar.get("compressionLevel") if isinstance(tar, dict) else None
    if isinstance(level, int) and not isinstance(level, bool) and -1 <= level <= 9:
        return Archive("tgz", DEFAULT_COMPRESSION if level == -1 else level)
    return Archive("tgz")


def file_name(art: dict[str, Any]) -> str:
    """The object's name inside the key prefix: `<name>.tgz`, `<name>.zip` or the path's basename."""
    kind = archive(art).kind
    if kind == "none":
        return posixpath.basename(str(art.get("path") or "").rstrip("/")) or str(art.get("name"))
    return f"{art.get('name')}.{'zip' if kind == 'zip' else 'tgz'}"


def location_kind(art: dict[str, Any]) -> str | None:
    """The location an artifact names (`s3`, `http`...), or None."""
    found = [kind for kind in LOCATION_KINDS if isinstance(art.get(kind), dict)]
    if len(found) > 1:
        raise ArtifactRuleError(f"artifact {art.get('name')}: more than one location ({', '.join(found)})")
    return found[0] if found else None


def is_key_only(art: dict[str, Any]) -> bool:
    kind = location_kind(art)
    if kind not in KEYED_KINDS:
        return False
    return not art[kind].get(WHERE_FIELD[kind])


def key_of(art: dict[str, Any]) -> str:
    kind = location_kind(art)
    if kind is None:
        return ""
    return str(art[kind].get(KEY_FIELD.get(kind, "key")) or "")


def _with_key(location: dict[str, Any], kind: str, key: str) -> dict[str, Any]:
    out = copy.deepcopy(location)
    out[KEY_FIELD.get(kind, "key")] = key
    return out


def repository_kind(repo: dict[str, Any] | None) -> str | None:
    if not isinstance(repo, dict):
        return None
    return next((kind for kind in KEYED_KINDS if isinstance(repo.get(kind), dict)), None)


def repository_location(kind: str, repo: dict[str, Any], key: str) -> dict[str, Any]:
    """A repository's settings (`artifactRepository.<kind>`) as an archive location whose key is `key`:
    the key in the kind's key field; Artifactory's `repoURL` becomes the `url` `<repoURL>/<key>`."""
    base = {
        k: copy.deepcopy(v) for k, v in repo.items() if k not in ("keyFormat", "keyPrefix", "blobNameFormat")
    }
    if kind == "artifactory":
        root = str(base.pop("repoURL", "") or "").rstrip("/")
        base["url"] = f"{root}/{key}" if root else key
    else:
        base[KEY_FIELD[kind]] = key
    return base


def relocate(art: dict[str, Any], repo: dict[str, Any] | None) -> dict[str, Any]:
    """A key-only artifact completed from the repository (`archiveLocation`): its key, the repository's
    bucket, endpoint and credentials. Other artifacts come back unchanged."""
    if not is_key_only(art):
        return art
    kind = location_kind(art)
    assert kind is not None
    base = (repo or {}).get(kind)
    if not isinstance(base, dict):
        have = repository_kind(repo) or "no repository"
        raise ArtifactRuleError(
            f"artifact {art.get('name')}: key-only {kind} location needs an {kind} artifact repository ({have} configured)"
        )
    merged = {
        k: copy.deepcopy(v) for k, v in base.items() if k not in ("keyFormat", "keyPrefix", "blobNameFormat")
    }
    merged.update(copy.deepcopy(art[kind]))
    out = dict(art)
    out[kind] = merged
    return out


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an output artifact is written (`location`, complete) and what the node reports (`reported`)."""

    kind: str
    key: str
    location: dict[str, Any]
    reported: dict[str, Any]


def place_output(art: dict[str, Any], archive_location: dict[str, Any] | None) -> Placement:
    """Decide the location of an output artifact."""
    name = art.get("name")
    declared = {k: v for k, v in art.items() if k not in ("from", "fromExpression")}
    kind = location_kind(art)
    if kind is not None and not is_key_only(art):
        if kind in ("raw", "git"):
            raise ArtifactRuleError(f"output artifact {name}: {kind} artifacts are inputs only")
        key = key_of(art) if kind in KEY_FIELD else ""
        return Placement(kind, key, dict(art[kind]), declared)
    if kind is not None:  # key-only: the key as written, the rest from the repository
        full = relocate(art, archive_location)
        key = key_of(art)
        return Placement(kind, key, full[kind], declared)
    repo_kind = repository_kind(archive_location)
    if repo_kind is None:
        raise ArtifactRuleError(
            f"output artifact {name}: no location and no artifact repository "
            "(configure one: artifactRepositoryRef, the `artifact-repositories` ConfigMap or the controller's)"
        )
    assert archive_location is not None
    base = archive_location[repo_kind]
    prefix = str(base.get(KEY_FIELD[repo_kind]) or "").strip("/")
    key = posixpath.join(prefix, file_name(art)) if prefix else file_name(art)
    location = {k: v for k, v in base.items() if k not in ("keyFormat", "keyPrefix", "blobNameFormat")}
    location[KEY_FIELD[repo_kind]] = key
    reported = dict(declared)
    reported[repo_kind] = {KEY_FIELD[repo_kind]: key}
    if repo_kind == "artifactory":  # a url names no repository to take credentials from: keep their refs
        reported[repo_kind].update(
            {k: location[k] for k in ("usernameSecret", "passwordSecret") if k in location}
        )
    return Placement(repo_kind, key, location, reported)


def place_logs(archive_location: dict[str, Any]) -> Placement:
    """Where `archiveLogs` puts main's log: artifact `main-logs`, `<key prefix>/main.log`, not archived."""
    placed = place_output(
        {"name": LOGS_ARTIFACT, "path": LOGS_FILE, "archive": {"none": {}}}, archive_location
    )
    reported = {"name": LOGS_ARTIFACT, placed.kind: placed.reported[placed.kind]}
    return Placement(placed.kind, placed.key, placed.location, reported)


def archive_logs(template: dict[str, Any]) -> bool:
    """Is log archiving on for this pod (the controller puts the decision in `archiveLocation.archiveLogs`)?"""
    location = template.get("archiveLocation")
    return isinstance(location, dict) and location.get("archiveLogs") is True


def input_location(
    art: dict[str, Any], archive_location: dict[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """(kind, complete location) an input artifact is read from; `subPath` joined onto its key."""
    kind = location_kind(art)
    if kind is None:
        raise ArtifactRuleError(f"input artifact {art.get('name')} has no location (was it supplied?)")
    full = relocate(art, archive_location)
    location = dict(full[kind])
    sub = str(art.get("subPath") or "").strip("/")
    if sub:
        if kind in KEY_FIELD:
            field = KEY_FIELD[kind]
            location[field] = posixpath.join(str(location.get(field) or ""), sub)
        elif kind == "http":
            location["url"] = str(location.get("url") or "").rstrip("/") + "/" + sub
    return kind, location


def resolve_key_format(key_format: str | None, values: dict[str, str]) -> str:
    """The repository's `keyFormat` (default `{{workflow.name}}/{{pod.name}}`) with the workflow's
    simple tags filled in; a tag it does not know stays as written, as Argo leaves it."""
    text = key_format or DEFAULT_KEY_FORMAT
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("{{", pos)
        end = text.find("}}", start + 2) if start >= 0 else -1
        if start < 0 or end < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:start])
        tag = text[start + 2 : end].strip()
        out.append(values.get(tag, text[start : end + 2]))
        pos = end + 2
