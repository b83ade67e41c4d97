"""kube/cache_check.py: a cache compared with a fresh list; only differences that persist while the
cache stays still count (the list function here is an in-memory server, the Store the real one)."""

from __future__ import annotations

from kube.cache_check import differences, find_drift
from kube.informer import Informer, Store


def obj(name: str, rv: str) -> dict:
    return {"metadata": {"namespace": "ns", "name": name, "resourceVersion": rv}}


class Server:
    def __init__(self, *objs: dict) -> None:
        self.items = list(objs)
        self.lists = 0

    async def list(self, **kwargs) -> dict:
        assert kwargs["_request_timeout"] > 0  # a check never hangs on a dead connection
        self.lists += 1
        return {"items": list(self.items)}


def informer(server: Server, store: Store) -> Informer:
    return Informer.into("things", server.list, {}, store)


def test_differences_by_kind():
    cached = {("ns", "a"): "1", ("ns", "b"): "5", ("ns", "gone"): "3"}
    listed = {("ns", "a"): "1", ("ns", "b"): "6", ("ns", "new"): "7"}
    assert differences(cached, listed) == {
        ("ns", "b"): "stale",
        ("ns", "gone"): "extra",
        ("ns", "new"): "missing",
    }


async def test_an_agreeing_cache_is_listed_once():
    server, store = Server(obj("a", "1")), Store()
    store.replace([obj("a", "1")])
    assert len(await find_drift(informer(server, store), store, grace=0)) == 0
    assert server.lists == 1


async def test_what_the_watch_never_delivered_is_drift():
    server, store = Server(obj("a", "2"), obj("new", "7")), Store()
    store.replace([obj("a", "1"), obj("gone", "3")])
    drift = await find_drift(informer(server, store), store, grace=0)
    assert (drift.missing, drift.extra, drift.stale) == ([("ns", "new")], [("ns", "gone")], [("ns", "a")])


async def test_a_change_the_watch_delivers_during_the_grace_is_not_drift():
    server, store = Server(obj("a", "2"), obj("b", "9")), Store()
    store.replace([obj("a", "1"), obj("b", "8")])

    async def watch_catches_up(seconds: float) -> None:
        store.apply("MODIFIED", obj("a", "2"))  # delivered late, but delivered
        server.items[1] = obj("b", "10")  # b moves on the server; the cache had moved too, just behind
        store.apply("MODIFIED", obj("b", "9"))

    drift = await find_drift(informer(server, store), store, grace=5, sleep=watch_catches_up)
    assert len(drift) == 0


class PagedServer(Server):
    """Answers `limit`/`_continue` as the API server does: pages of one snapshot."""

    def __init__(self, *objs: dict) -> None:
        super().__init__(*objs)
        self.requests: list[dict] = []

    async def list(self, **kwargs) -> dict:
        self.requests.append(kwargs)
        start = int(kwargs.get("_continue") or 0)
        limit = kwargs["limit"]
        page = self.items[start : start + limit]
        more = start + limit < len(self.items)
        return {
            "metadata": {"resourceVersion": "99", **({"continue": str(start + limit)} if more else {})},
            "items": page,
        }


async def test_lists_in_pages_fill_the_cache_and_the_check_alike():
    server = PagedServer(*(obj(f"o{i}", str(i)) for i in range(5)))
    store = Store()
    inf = Informer.into("things", server.list, {}, store, page_size=2)
    assert await inf._list() == "99"
    assert sorted(k[1] for k in store.objects) == [f"o{i}" for i in range(5)]
    assert [r.get("_continue") for r in server.requests] == [None, "2", "4"]
    assert all(r["limit"] == 2 for r in server.requests)
    server.requests.clear()
    assert len(await find_drift(inf, store, grace=0)) == 0
    assert len(server.requests) == 3 and all(r["_request_timeout"] > 0 for r in server.requests)


async def test_a_paged_list_keeps_what_the_store_keeps_page_by_page():
    server = PagedServer(*({**obj(f"o{i}", "1"), "big": "x" * 100} for i in range(3)))
    kept: list[dict] = []
    store = Store(transform=lambda o: {k: v for k, v in o.items() if k != "big"})
    inf = Informer(
        "things", server.list, {}, on_list=kept.extend, on_event=store.apply, store=store, page_size=2
    )
    await inf._list()
    assert len(kept) == 3 and all("big" not in o for o in kept)
