"""kube/rest.py against a real API server: calls whose answer is not read (`decode=False`: the
controller's pod creations, events, pod patches, deletes) still succeed and fail exactly as the others:
the API server's status, reason and message in an ApiError."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from kube.client import api_client
from kube.rest import ApiError, Rest


def _cm(name: str, ns: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}}


async def test_calls_without_decoding_the_answer(kubeconfig: Path, namespace: str) -> None:
    api = await api_client(str(kubeconfig))
    try:
        rest = Rest(api)
        name = f"rest-{uuid.uuid4().hex[:6]}"
        assert await rest.create({**_cm(name, namespace), "data": {"a": "1"}}, decode=False) == {}
        assert (await rest.get("v1", "ConfigMap", namespace, name))["data"] == {"a": "1"}
        with pytest.raises(ApiError) as refused:
            await rest.create(_cm(name, namespace), decode=False)
        assert refused.value.status == 409 and refused.value.reason == "AlreadyExists"
        assert name in refused.value.message
        patched = await rest.merge_patch(
            "v1", "ConfigMap", namespace, name, {"data": {"b": "2"}}, decode=False
        )
        assert patched == {}
        assert (await rest.get("v1", "ConfigMap", namespace, name))["data"] == {"a": "1", "b": "2"}
        # a refusal with causes: an invalid name
        with pytest.raises(ApiError) as invalid:
            await rest.create(_cm("Not_A_Name", namespace), decode=False)
        assert invalid.value.status == 422 and invalid.value.reason == "Invalid"
        assert any(c.get("field") == "metadata.name" for c in invalid.value.causes)
        await rest.delete("v1", "ConfigMap", namespace, name)
        with pytest.raises(ApiError) as gone:
            await rest.delete("v1", "ConfigMap", namespace, name)
        assert gone.value.status == 404 and gone.value.reason == "NotFound"
        with pytest.raises(ApiError) as missing:
            await rest.merge_patch("v1", "ConfigMap", namespace, name, {"data": {}}, decode=False)
        assert missing.value.status == 404
    finally:
        await api.close()
