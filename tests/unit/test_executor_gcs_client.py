"""The GCS client's reach (executor-sidecar/sluice_executor/drivers/gcs_client.py): explicit endpoint and
token URI only, never ambient credentials, never another host; its key parsing and signed JWT."""

from __future__ import annotations

import base64
import json
import socket

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from sluice_executor.drivers import DriverError, NoSecrets
from sluice_executor.drivers.gcs import REFUSAL, GCSDriver
from sluice_executor.drivers.gcs_client import (
    DEFAULT_ENDPOINT,
    SCOPE,
    Client,
    GCSError,
    Origin,
    ServiceAccount,
    assertion,
    endpoint_from_env,
)

KEY = rsa.generate_private_key(65537, 2048)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()


def key_json(**changes) -> str:
    data = {
        "type": "service_account",
        "private_key_id": "kid-1",
        "private_key": PEM,
        "client_email": "robot@example.test",
        "token_uri": "http://127.0.0.1:2/token",
    }
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not None})


@pytest.fixture
def no_network(monkeypatch):
    def refuse(self, address):
        raise AssertionError(f"a connection was attempted to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize(
    ("value", "endpoint"),
    [
        ("", DEFAULT_ENDPOINT),
        ("127.0.0.1:4443", "http://127.0.0.1:4443"),
        ("https://gcs.internal.example:8443/", "https://gcs.internal.example:8443"),
    ],
)
def test_the_endpoint_is_the_emulator_variable_or_googles(value, endpoint):
    assert endpoint_from_env({"STORAGE_EMULATOR_HOST": value} if value else {}) == endpoint


def test_tests_never_fall_back_to_googles_endpoint():
    """tests/conftest.py points the variable at the discard port: a driver made without an endpoint in
    any test goes there, never to storage.googleapis.com."""
    assert GCSDriver(NoSecrets()).endpoint == "http://127.0.0.1:9"


def test_the_client_reaches_only_its_endpoint_and_the_keys_token_uri(no_network):
    client = Client("http://127.0.0.1:1", ServiceAccount.from_json(key_json()))
    assert client.transport.allowed == {
        Origin("http", "127.0.0.1", 1),
        Origin("http", "127.0.0.1", 2),
    }
    for url in (
        "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token",
        "http://metadata.google.internal/computeMetadata/v1/",
        "https://storage.googleapis.com/storage/v1/b/x/o",
        "https://oauth2.googleapis.com/token",
        "http://127.0.0.1:3/upload",  # same host, another port: another origin
        "https://127.0.0.1:1/",  # same host and port, another scheme
    ):
        with pytest.raises(GCSError, match="refusing to contact"), client.transport.exchange("GET", url, {}):
            pass


def test_without_a_key_secret_the_driver_refuses_and_reads_no_secret():
    class Untouchable:
        def get(self, selector):
            raise AssertionError("no Secret may be read")

    driver = GCSDriver(Untouchable(), endpoint="http://127.0.0.1:1")
    for location in ({"bucket": "b", "key": "k"}, {"bucket": "b", "key": "k", "serviceAccountKeySecret": {}}):
        with pytest.raises(DriverError) as err:
            driver.get(location, None)
        assert str(err.value) == f"gs://b/k at http://127.0.0.1:1: {REFUSAL}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a service account key (JSON expected)"),
        (key_json(type="authorized_user"), '"type": "service_account" expected'),
        (key_json(token_uri=None), "has no token_uri"),
        (key_json(client_email=None, private_key=None), "has no client_email, private_key"),
        (key_json(token_uri="file:///etc/passwd"), "token_uri must be an http:// or https:// URL"),
        (key_json(private_key="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "not a PEM"),
    ],
)
def test_bad_keys_are_named_without_their_content(text, message):
    with pytest.raises(GCSError) as err:
        ServiceAccount.from_json(text)
    assert message in str(err.value)
    assert "PRIVATE KEY" not in str(err.value) and "AAAA" not in str(err.value)


def test_an_ec_key_is_refused():
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    with pytest.raises(GCSError, match="not an RSA key"):
        ServiceAccount.from_json(key_json(private_key=pem))


def test_the_assertion_is_an_rs256_jwt_for_the_token_uri():
    account = ServiceAccount.from_json(key_json())
    head, body, signature = assertion(account, 1_700_000_000).split(".")

    def unb64(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    KEY.public_key().verify(unb64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    assert json.loads(unb64(head)) == {"alg": "RS256", "typ": "JWT", "kid": "kid-1"}
    assert json.loads(unb64(body)) == {
        "iss": "robot@example.test",
        "scope": SCOPE,
        "aud": "http://127.0.0.1:2/token",
        "iat": 1_700_000_000,
        "exp": 1_700_003_600,
    }
