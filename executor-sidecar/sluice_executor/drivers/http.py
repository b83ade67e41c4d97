"""HTTP(S) artifacts: GET for inputs, PUT for outputs (Argo's `http` location), streamed in chunks.

Location fields: `url`, `headers` ([{name, value}]), `auth.basicAuth` (`usernameSecret`,
`passwordSecret`, read from the mounted Secrets). OAuth2 and client-certificate auth are refused with a
clear message (not supported here). Standard library only (urllib): the executor never needs an HTTP
framework for this. Messages name the URL without any user-info part, never a credential.
"""

from __future__ import annotations

import base64
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sluice_executor.drivers import DriverError, NotFound, Secrets

TIMEOUT = 60.0  # seconds without progress on one socket operation
CHUNK = 1024 * 1024


def _shown(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


class HTTPDriver:
    def __init__(self, secrets: Secrets):
        self.secrets = secrets

    def _request(self, location: dict[str, Any], method: str, **kwargs: Any) -> urllib.request.Request:
        url = str(location.get("url") or "")
        if urlsplit(url).scheme not in ("http", "https"):
            raise DriverError(f"http artifact URL must be http:// or https://, got {_shown(url)!r}")
        headers = {}
        for header in location.get("headers") or ():
            if isinstance(header, dict) and header.get("name"):
                headers[str(header["name"])] = str(header.get("value") or "")
        auth = location.get("auth") or {}
        if isinstance(auth, dict) and auth:
            basic = auth.get("basicAuth")
            if isinstance(basic, dict) and basic:
                user = self.secrets.get(basic.get("usernameSecret"))
                password = self.secrets.get(basic.get("passwordSecret"))
                token = base64.b64encode(f"{user}:{password}".encode()).decode()
                headers["Authorization"] = f"Basic {token}"
            elif auth.get("oauth2") or auth.get("clientCert"):
                raise DriverError(
                    "http artifacts with OAuth2 or client-certificate auth are not supported here"
                )
        return urllib.request.Request(url, method=method, headers=headers, **kwargs)

    def get(self, location: dict[str, Any], dest: Path) -> None:
        request = self._request(location, "GET")
        shown = _shown(request.full_url)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out, CHUNK)
            os.replace(tmp, dest)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise NotFound(f"GET {shown}: 404 Not Found") from None
            raise DriverError(f"GET {shown}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DriverError(f"GET {shown}: cannot reach the server: {reason}") from None
        finally:
            tmp.unlink(missing_ok=True)

    def put(self, source: Path, location: dict[str, Any]) -> None:
        if source.is_dir():
            raise DriverError(
                "an http artifact is one file: archive the directory (tgz, the default) to PUT it"
            )
        size = source.stat().st_size
        with open(source, "rb") as body:
            request = self._request(location, "PUT", data=body)
            request.add_header("Content-Length", str(size))
            request.add_header("Content-Type", "application/octet-stream")
            shown = _shown(request.full_url)
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                    response.read(1024)
            except urllib.error.HTTPError as exc:
                raise DriverError(f"PUT {shown}: HTTP {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise DriverError(f"PUT {shown}: cannot reach the server: {reason}") from None
