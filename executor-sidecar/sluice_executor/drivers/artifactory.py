"""Artifactory artifacts: the object at `url` (GET to read, PUT to write), with basic auth from
`usernameSecret`/`passwordSecret` (Argo's ArtifactoryArtifact). A repository's `repoURL` plus the key
gives the url (workflow/artifact_rules.py repository_location); the transfer itself is http.py's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sluice_executor.drivers.http import HTTPDriver


def as_http(location: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"url": location.get("url")}
    if isinstance(location.get("usernameSecret"), dict):
        out["auth"] = {
            "basicAuth": {
                "usernameSecret": location["usernameSecret"],
                "passwordSecret": location.get("passwordSecret"),
            }
        }
    return out


class ArtifactoryDriver(HTTPDriver):
    def get(self, location: dict[str, Any], dest: Path) -> None:
        super().get(as_http(location), dest)

    def put(self, source: Path, location: dict[str, Any]) -> None:
        super().put(source, as_http(location))
