"""Azure Blob Storage (and Azurite) through `obstore` (objectstore.py moves the bytes).

Location fields (Argo's AzureArtifact): `endpoint` (`https://ACCOUNT.blob.core.windows.net`, or an
emulator's `http://127.0.0.1:10000/ACCOUNT`), `container`, `blob`, `accountKeySecret` (the account's
shared key, from the mounted Secrets) or `useSDKCreds` (the environment's credentials).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sluice_executor.drivers import DriverError
from sluice_executor.drivers.objectstore import CLIENT_OPTIONS, RETRY, ObjectStoreDriver, first_line


def account_of(endpoint: str) -> tuple[str, str]:
    """(account, endpoint for the store) from Argo's `endpoint`."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    path = parts.path.strip("/")
    if host.endswith(".blob.core.windows.net"):
        return host.split(".", 1)[0], ""
    if path:  # emulator style: the account is the first path segment
        return path.split("/", 1)[0], endpoint.rstrip("/")
    raise DriverError(f"cannot tell the storage account from the Azure endpoint {endpoint!r}")


class AzureDriver(ObjectStoreDriver):
    kind = "Azure"

    def _key(self, location: dict[str, Any]) -> str:
        return str(location.get("blob") or "").strip("/")

    def _where(self, location: dict[str, Any]) -> str:
        return f"azure://{location.get('container')}/{location.get('blob')} at {location.get('endpoint')}"

    def _store(self, location: dict[str, Any]) -> Any:
        from obstore.store import AzureStore

        container, endpoint = location.get("container"), str(location.get("endpoint") or "")
        if not container or not endpoint:
            raise DriverError("the Azure location needs an endpoint and a container")
        account, custom = account_of(endpoint)
        config: dict[str, Any] = {"account_name": account}
        if custom:
            config["endpoint"] = custom
        if isinstance(location.get("accountKeySecret"), dict):
            config["account_key"] = self.secrets.get(location["accountKeySecret"])
        elif location.get("useSDKCreds") is not True:
            config["skip_signature"] = True  # a public container
        client = {"allow_http": urlsplit(endpoint).scheme == "http", **CLIENT_OPTIONS}
        try:
            return AzureStore(str(container), config=config, client_options=client, retry_config=RETRY)
        except Exception as exc:  # obstore's configuration errors
            raise DriverError(f"{self._where(location)}: {first_line(exc)}") from None
