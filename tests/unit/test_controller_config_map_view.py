"""controller/config_map_view.py: the engine reads ConfigMaps straight from the informer's store."""

from __future__ import annotations

import pytest

from controller.config_map_view import ConfigMapData
from controller.reconciler import Controller
from kube.informer import Store

pytestmark = pytest.mark.unit


def _cm(ns: str, name: str, data: dict[str, str] | None) -> dict:
    obj: dict = {"metadata": {"namespace": ns, "name": name, "resourceVersion": "1"}}
    if data is not None:
        obj["data"] = data
    return obj


def test_lookups_by_namespace_and_name() -> None:
    store = Store()
    store.apply("ADDED", _cm("a", "limits", {"workflow": "2"}))
    store.apply("ADDED", _cm("a", "empty", None))
    view = ConfigMapData(store)
    assert view.get("a/limits") == {"workflow": "2"}
    assert view["a/limits"]["workflow"] == "2"
    assert view.get("a/empty") == {}
    assert view.get("b/limits") is None and view.get("b/limits", "x") == "x"
    assert "a/limits" in view and "b/limits" not in view and 3 not in view
    with pytest.raises(KeyError):
        view["a/missing"]
    assert sorted(view) == ["a/empty", "a/limits"] and len(view) == 2
    assert dict(view.items()) == {"a/empty": {}, "a/limits": {"workflow": "2"}}


def test_it_sees_the_store_as_it_is_now_without_copying() -> None:
    store = Store()
    view = ConfigMapData(store)
    assert view.get("a/limits") is None
    cm = _cm("a", "limits", {"workflow": "1"})
    store.apply("ADDED", cm)
    assert view.get("a/limits") is cm["data"]  # the cached object itself: nothing copied
    store.apply("MODIFIED", _cm("a", "limits", {"workflow": "5"}))
    assert view.get("a/limits") == {"workflow": "5"}
    store.apply("DELETED", _cm("a", "limits", None))
    assert view.get("a/limits") is None


def test_the_controller_hands_the_engine_the_view() -> None:
    ctl = Controller(rest=None, executor_image="img")  # type: ignore[arg-type]
    ctl.config_maps.apply("ADDED", _cm("ns", "limits", {"workflow": "3"}))
    observed = ctl.observed("ns/wf", "ns")
    assert observed.config_maps.get("ns/limits") == {"workflow": "3"}
    ctl.config_maps.apply("MODIFIED", _cm("ns", "limits", {"workflow": "4"}))
    assert observed.config_maps.get("ns/limits") == {"workflow": "4"}
