"""A small client for Google Cloud Storage's JSON API: streamed downloads, resumable chunked uploads,
listings, and an OAuth2 token from a service account key (a signed JWT exchanged at the key's
`token_uri`). The GCS driver (gcs.py) is its only user.

Why hand-written rather than a library (both read before choosing):
* obstore's GCS store speaks the XML API: its multipart uploads are refused by fake-gcs-server v1.56.1
  ("invalid uploadType"), the only GCS server this project can test against, and with no credentials
  configured it falls back to the cloud metadata address (it reached for it once, in a test).
* google-cloud-storage brings google-auth, google-api-core, protobuf, requests and crc32c into the
  executor image, and google-auth probes the metadata server for a project or default credentials
  whenever one option is left out, which no pin keeps true across versions.
This client connects to exactly two origins, both explicit: the endpoint (STORAGE_EMULATOR_HOST, as
Google's own clients read it, else storage.googleapis.com) and the key's `token_uri`. It reads no
ambient credentials, follows no redirect, uses no proxy variables, and refuses an upload session URL
on any other origin (`Transport`). Standard library and `cryptography` (already a dependency) only.

Memory stays flat whatever the object's size: downloads are read in 1 MiB blocks into a file, uploads
are sent from the file in 64 MiB chunks read 1 MiB at a time. A failed chunk or download resumes where
the server says it stopped; an upload becomes an object only when its last chunk is accepted, so an
interrupted upload leaves nothing under the key.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"
DEFAULT_ENDPOINT = "https://storage.googleapis.com"
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"  # Google's clients' variable for another endpoint
CHUNK = 64 * 1024 * 1024  # one resumable-upload request; GCS wants a multiple of 256 KiB
BLOCK = 1024 * 1024  # socket reads and writes
CONNECT_TIMEOUT = 10.0
TIMEOUT = 60.0  # seconds without progress on one socket operation
RETRY_DELAYS = (1.0, 2.0, 4.0)  # then give up: an unreachable store fails the node in seconds
MAX_JSON = 16 * 1024 * 1024  # a listing page, a token or an error answer larger than this is refused
MAX_LISTED = 1_000_000  # objects under one prefix
TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
T = TypeVar("T")


class GCSError(Exception):
    """A request failed; the message never holds a credential."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def transient(self) -> bool:
        return self.status in TRANSIENT


class Unreachable(GCSError):
    """No answer: refused, reset, timed out, TLS failed."""

    @property
    def transient(self) -> bool:
        return True


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str, what: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise GCSError(f"{what} must be an http:// or https:// URL, got {url!r}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise GCSError(f"{what} has an invalid port: {url!r}") from None
        return cls(parts.scheme, parts.hostname, port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def endpoint_from_env(environ: Mapping[str, str]) -> str:
    """The JSON API's base URL: STORAGE_EMULATOR_HOST (`host:port` means plain HTTP, as in Google's Go
    client, which Argo's executor uses), else Google's."""
    value = environ.get(EMULATOR_ENV, "").strip()
    if not value:
        return DEFAULT_ENDPOINT
    return value.rstrip("/") if "://" in value else f"http://{value.rstrip('/')}"


@dataclass(frozen=True)
class ServiceAccount:
    email: str
    key: rsa.RSAPrivateKey
    key_id: str
    token_uri: str

    @classmethod
    def from_json(cls, text: str) -> ServiceAccount:
        """A service account key file's JSON; errors never quote it."""
        try:
            data = json.loads(text)
        except ValueError:
            raise GCSError("not a service account key (JSON expected)") from None
        if not isinstance(data, dict) or data.get("type") != "service_account":
            raise GCSError('not a service account key ("type": "service_account" expected)')
        fields = {f: data.get(f) for f in ("client_email", "private_key", "token_uri")}
        missing = [f for f, v in fields.items() if not isinstance(v, str) or not v]
        if missing:
            raise GCSError(f"the service account key has no {', '.join(missing)}")
        Origin.of(str(fields["token_uri"]), "the service account key's token_uri")
        try:
            key = serialization.load_pem_private_key(str(fields["private_key"]).encode(), password=None)
        except (ValueError, TypeError):
            raise GCSError("the service account key's private_key is not a PEM private key") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise GCSError("the service account key's private_key is not an RSA key")
        key_id = data.get("private_key_id")
        return cls(
            str(fields["client_email"]),
            key,
            key_id if isinstance(key_id, str) else "",
            str(fields["token_uri"]),
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assertion(account: ServiceAccount, now: int) -> str:
    """The signed JWT (RS256) exchanged for an access token (RFC 7523)."""
    header: dict[str, str] = {"alg": "RS256", "typ": "JWT"}
    if account.key_id:
        header["kid"] = account.key_id
    claims = {"iss": account.email, "scope": SCOPE, "aud": account.token_uri, "iat": now, "exp": now + 3600}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = account.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


class Transport:
    """Connections to the allowed origins only; every request of the client goes through `exchange`."""

    def __init__(self, allowed: set[Origin]):
        self.allowed = frozenset(allowed)
        self._tls: ssl.SSLContext | None = None

    def check(self, url: str) -> Origin:
        origin = Origin.of(url, "a GCS request URL")
        if origin not in self.allowed:
            raise GCSError(
                f"refusing to contact {origin}: it is neither the GCS endpoint nor the key's token_uri"
            )
        return origin

    def _connection(self, origin: Origin) -> http.client.HTTPConnection:
        if origin.scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            return http.client.HTTPSConnection(
                origin.host, origin.port, timeout=CONNECT_TIMEOUT, context=self._tls, blocksize=BLOCK
            )
        return http.client.HTTPConnection(origin.host, origin.port, timeout=CONNECT_TIMEOUT, blocksize=BLOCK)

    @contextmanager
    def exchange(
        self, method: str, url: str, headers: dict[str, str], body: bytes | BinaryIO | None = None
    ) -> Iterator[http.client.HTTPResponse]:
        origin = self.check(url)
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn = self._connection(origin)
        try:
            try:
                conn.connect()
                if conn.sock is not None:
                    conn.sock.settimeout(TIMEOUT)
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
            except ssl.SSLCertVerificationError as exc:  # no retry: it will not become trusted
                raise GCSError(f"the TLS certificate of {origin} is not trusted: {_reason(exc)}") from None
            except (OSError, http.client.HTTPException) as exc:
                raise Unreachable(_reason(exc)) from None
            yield response
        finally:
            conn.close()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def _status_error(response: http.client.HTTPResponse, what: str) -> GCSError:
    detail = ""
    try:
        data = json.loads(response.read(MAX_JSON))
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            detail = str(error.get("message") or "")
        elif isinstance(error, str):  # OAuth answers: {"error": "invalid_grant", ...}
            detail = error
    except (ValueError, OSError, http.client.HTTPException):
        pass
    text = f"{what}: HTTP {response.status} {response.reason}"
    return GCSError(f"{text}: {detail[:200]}" if detail else text, response.status)


class TokenSource:
    """An access token for the service account, exchanged at its token_uri and kept until near expiry."""

    def __init__(self, account: ServiceAccount, transport: Transport, clock: Callable[[], float] = time.time):
        self.account = account
        self.transport = transport
        self.clock = clock
        self._lock = threading.Lock()
        self._token = ""
        self._expires = 0.0

    def token(self, fresh: bool = False) -> str:
        with self._lock:
            now = self.clock()
            if self._token and not fresh and now < self._expires - 60:
                return self._token
            body = urlencode(
                {
                    "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                    "assertion": assertion(self.account, int(now)),
                }
            ).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body))}
            shown = Origin.of(self.account.token_uri, "token_uri")
            try:
                token, lifetime = self._exchange(body, headers, shown)
            except Unreachable as exc:
                raise Unreachable(f"the token URI at {shown}: {exc}") from None
            self._token, self._expires = token, now + lifetime
            return token

    def _exchange(self, body: bytes, headers: dict[str, str], shown: Origin) -> tuple[str, float]:
        with self.transport.exchange("POST", self.account.token_uri, headers, body) as response:
            if response.status != 200:
                error = _status_error(response, f"the token URI at {shown} refused the key")
                # a refused key is an authentication failure, whatever code the server chose
                raise GCSError(str(error), error.status if error.transient else 401)
            try:
                data = json.loads(response.read(MAX_JSON))
                token = data["access_token"]
                lifetime = float(data.get("expires_in") or 3600)
            except (ValueError, KeyError, TypeError, OSError, http.client.HTTPException):
                raise GCSError(f"the token URI at {shown} gave no access token") from None
        if not isinstance(token, str) or not token:
            raise GCSError(f"the token URI at {shown} gave no access token")
        return token, lifetime


class _Window:
    """`length` bytes of a file from its current position, read in blocks (an upload chunk's body)."""

    def __init__(self, file: BinaryIO, length: int):
        self.file = file
        self.left = length

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size < 0 else min(size, self.left)
        data = self.file.read(size)
        self.left -= len(data)
        return data


class Client:
    def __init__(
        self,
        endpoint: str,
        account: ServiceAccount,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base = endpoint.rstrip("/")
        allowed = {
            Origin.of(endpoint, "the GCS endpoint"),
            Origin.of(account.token_uri, "the service account key's token_uri"),
        }
        self.transport = Transport(allowed)
        self.tokens = TokenSource(account, self.transport, clock)
        self.sleep = sleep

    def _url(self, path: str, query: dict[str, str] | None = None) -> str:
        return f"{self.base}{path}" + (f"?{urlencode(query)}" if query else "")

    @staticmethod
    def _object(bucket: str, name: str) -> str:
        return f"/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"

    def _retry(self, attempt: Callable[[str], T]) -> T:
        """Run `attempt(token)`, again after a transient failure (bounded) or once with a fresh token
        after a 401."""
        delays = iter(RETRY_DELAYS)
        fresh = False
        while True:
            try:
                return attempt(self.tokens.token(fresh))
            except GCSError as exc:
                if exc.status == 401 and not fresh:
                    fresh = True
                    continue
                delay = next(delays, None) if exc.transient else None
                if delay is None:
                    raise
                self.sleep(delay)

    def _json(self, url: str) -> Any:
        def attempt(token: str) -> Any:
            with self.transport.exchange("GET", url, {"Authorization": f"Bearer {token}"}) as response:
                if response.status != 200:
                    raise _status_error(response, "GET")
                body = response.read(MAX_JSON + 1)
                if len(body) > MAX_JSON:
                    raise GCSError(f"GET: an answer over {MAX_JSON} bytes")
                try:
                    return json.loads(body)
                except ValueError:
                    raise GCSError("GET: the answer is not JSON") from None

        return self._retry(attempt)

    def list(self, bucket: str, prefix: str) -> list[str]:
        """Names of the objects under `prefix`, every page."""
        names: list[str] = []
        page = ""
        while True:
            query = {"prefix": prefix, "fields": "items(name),nextPageToken"}
            if page:
                query["pageToken"] = page
            data = self._json(self._url(f"/storage/v1/b/{quote(bucket, safe='')}/o", query))
            items = data.get("items") if isinstance(data, dict) else None
            names.extend(str(i["name"]) for i in items or () if isinstance(i, dict) and i.get("name"))
            if len(names) > MAX_LISTED:
                raise GCSError(f"more than {MAX_LISTED} objects under {prefix!r}")
            page = str(data.get("nextPageToken") or "") if isinstance(data, dict) else ""
            if not page:
                return names

    def download(self, bucket: str, name: str, dest: Path) -> None:
        """The object into `dest` (through a temporary file); GCSError 404 when it does not exist. A
        broken transfer resumes with a Range request for the same generation."""
        tmp = dest.with_name(f".{dest.name}.part")
        state: dict[str, Any] = {"written": 0, "generation": ""}
        try:
            with open(tmp, "wb") as out:

                def attempt(token: str) -> None:
                    query = {"alt": "media"}
                    if state["generation"]:
                        query["generation"] = state["generation"]
                    headers = {"Authorization": f"Bearer {token}"}
                    if state["written"]:
                        headers["Range"] = f"bytes={state['written']}-"
                    url = self._url(self._object(bucket, name), query)
                    with self.transport.exchange("GET", url, headers) as response:
                        self._receive(response, out, state)

                self._retry(attempt)
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _receive(response: http.client.HTTPResponse, out: BinaryIO, state: dict[str, Any]) -> None:
        if response.status not in (200, 206):
            raise _status_error(response, "GET")
        if response.status == 200 and state["written"]:  # the whole object again: start over
            out.seek(0)
            out.truncate()
            state["written"] = 0
        state["generation"] = state["generation"] or response.getheader("x-goog-generation") or ""
        length = response.getheader("Content-Length")
        expected = state["written"] + int(length) if length and length.isdigit() else None
        while True:
            try:
                block = response.read(BLOCK)
            except (OSError, http.client.HTTPException) as exc:
                raise Unreachable(
                    f"the download broke after {state['written']} bytes: {_reason(exc)}"
                ) from None
            if not block:
                break
            out.write(block)  # a local failure (disk full) is no store failure: raised as it is, not retried
            state["written"] += len(block)
        if expected is not None and state["written"] < expected:
            raise Unreachable(f"the connection closed after {state['written']} of {expected} bytes")

    def upload(self, path: Path, bucket: str, name: str) -> None:
        """A resumable upload from the file, in CHUNK-sized requests."""
        size = path.stat().st_size
        start = self._url(
            f"/upload/storage/v1/b/{quote(bucket, safe='')}/o", {"uploadType": "resumable", "name": name}
        )
        metadata = b"{}"

        def begin(token: str) -> str:
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json; charset=UTF-8",
                "Content-Length": str(len(metadata)),
                "X-Upload-Content-Type": "application/octet-stream",
                "X-Upload-Content-Length": str(size),
            }
            with self.transport.exchange("POST", start, headers, metadata) as response:
                if response.status not in (200, 201):
                    raise _status_error(response, "starting the upload")
                response.read(MAX_JSON)
                session = response.getheader("Location") or ""
            if not session:
                raise GCSError("starting the upload: the server gave no session URL")
            self.transport.check(session)  # the session lives on the endpoint, never elsewhere
            return session

        session = self._retry(begin)
        offset = 0
        with open(path, "rb") as source:
            while True:
                count = min(CHUNK, size - offset)

                def send(token: str, at: int = offset, count: int = count) -> int | None:
                    source.seek(at)
                    span = f"bytes {at}-{at + count - 1}/{size}" if count else f"bytes */{size}"
                    headers = {
                        "Authorization": f"Bearer {token}",
                        "Content-Length": str(count),
                        "Content-Range": span,
                    }
                    with self.transport.exchange("PUT", session, headers, _Window(source, count)) as response:
                        if response.status in (200, 201):
                            response.read(MAX_JSON)
                            return None
                        if response.status == 308:  # more wanted: from the byte after the persisted range
                            persisted = response.getheader("Range") or ""
                            return int(persisted.rsplit("-", 1)[1]) + 1 if "-" in persisted else 0
                        raise _status_error(response, "uploading")

                following = self._retry(send)
                if following is None:
                    return
                if following <= offset:  # no progress: the server keeps refusing the chunk
                    raise GCSError(f"uploading: the server accepted nothing past byte {offset}")
                offset = following
