"""The per-request deadline and the event loop's responsiveness, over real HTTPS, with a check that is
made slow on purpose (a stand-in for a pathological workflow)."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import threading
import time

import aiohttp
from aiohttp import web
from test_webhook_support import free_port, review

from kube.logs import JsonFormatter
from webhook.admission import Admission
from webhook.policy.cel import CelPython
from webhook.policy.engine import PolicySet
from webhook.server import Settings, build_app
from webhook.sources import TemplateStore
from webhook.tls import CertReloader
from workflow.check import CheckReport


class SlowCheck:
    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self, doc, source, options):
        self.release.wait(10)
        return CheckReport("Workflow", "wf", "default", expanded=doc)


async def serve(tmp_path, admission, settings):
    reloader = CertReloader(tmp_path / "certs", ["localhost"])
    reloader.start()
    runner = web.AppRunner(build_app(admission, settings=settings))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=reloader.context).start()
    ctx = ssl.create_default_context(cafile=str(tmp_path / "certs" / "ca.crt"))
    return runner, f"https://localhost:{port}", ctx


async def test_a_check_over_the_deadline_is_a_timeout_denial_and_probes_still_answer(tmp_path):
    slow = SlowCheck()
    admission = Admission(source=TemplateStore(), policies=PolicySet(CelPython()), checker=slow)
    runner, url, ctx = await serve(tmp_path, admission, Settings(deadline=0.5, workers=1))
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as session:
            wf = {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Workflow",
                "metadata": {"name": "wf"},
                "spec": {},
            }
            pending = asyncio.create_task(session.post(f"{url}/validate", json=review(wf, uid="slow-1")))
            await asyncio.sleep(0.1)
            # The check runs in a worker thread: health and metrics are answered meanwhile.
            async with session.get(f"{url}/healthz") as resp:
                assert resp.status == 200
            resp = await pending
            answer = await resp.json()
            assert resp.status == 200
            r = answer["response"]
            assert (r["uid"], r["allowed"]) == ("slow-1", False)
            assert (r["status"]["code"], r["status"]["reason"]) == (504, "Timeout")
            assert "within 0.5s" in r["status"]["message"]
            slow.release.set()
            async with session.get(f"{url}/metrics") as metrics:
                text = await metrics.text()
            assert 'sluice_webhook_denials_total{kind="Workflow",reason="timeout"} 1' in text
    finally:
        slow.release.set()
        await runner.cleanup()


async def test_request_logs_are_json_and_carry_no_object_content(tmp_path):
    records: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(JsonFormatter().format(record))

    handler = Capture()
    log = logging.getLogger("sluice.webhook")
    log.addHandler(handler)
    old_level = log.level
    log.setLevel(logging.INFO)
    admission = Admission(
        source=TemplateStore(),
        policies=PolicySet(CelPython()),
        checker=lambda doc, source, options: CheckReport("Workflow", "wf", "default", expanded=doc),
    )
    runner, url, ctx = await serve(tmp_path, admission, Settings())
    try:
        secret = "s3cr3t-value-in-a-parameter"
        wf = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"name": "wf"},
            "spec": {"arguments": {"parameters": [{"name": "password", "value": secret}]}},
        }
        async with (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as session,
            session.post(f"{url}/validate", json=review(wf, uid="log-1")) as resp,
        ):
            assert resp.status == 200
    finally:
        await runner.cleanup()
        log.removeHandler(handler)
        log.setLevel(old_level)
    entries = [json.loads(line) for line in records]
    admission_entries = [e for e in entries if e["msg"] == "admission"]
    assert admission_entries and admission_entries[0]["uid"] == "log-1"
    assert admission_entries[0]["allowed"] is True and admission_entries[0]["kind"] == "Workflow"
    assert not any(secret in line for line in records)


class SpinningCheck:
    """Pure Python that would run for a minute: the stand-in for a check that is slow on its input."""

    def __init__(self) -> None:
        self.spins = 0
        self.ended = threading.Event()

    def __call__(self, doc, source, options):
        if doc["metadata"]["name"] != "spin":
            return CheckReport("Workflow", doc["metadata"]["name"], "default", expanded=doc)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                self.spins += 1
            return CheckReport("Workflow", "spin", "default", expanded=doc)
        finally:
            self.ended.set()


async def test_a_check_over_the_deadline_is_stopped_and_its_thread_serves_the_next_request(tmp_path):
    spin = SpinningCheck()
    admission = Admission(source=TemplateStore(), policies=PolicySet(CelPython()), checker=spin)
    # One admission thread: the next request is answered only if the stopped check gave it back.
    runner, url, ctx = await serve(tmp_path, admission, Settings(deadline=0.5, workers=1))

    def wf(name):
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"name": name},
            "spec": {},
        }

    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as session:
            async with session.post(f"{url}/validate", json=review(wf("spin"), uid="spin-1")) as resp:
                r = (await resp.json())["response"]
            assert (r["allowed"], r["status"]["reason"]) == (False, "Timeout")
            # Before: the check ran on for its minute, and every request meanwhile was a Timeout denial.
            await asyncio.get_running_loop().run_in_executor(None, spin.ended.wait, 30)
            assert spin.ended.is_set()
            spins = spin.spins
            async with session.post(f"{url}/validate", json=review(wf("next"), uid="next-1")) as resp:
                r = (await resp.json())["response"]
            assert r["allowed"] is True, r
            assert spin.spins == spins  # the spinning stopped for good
    finally:
        await runner.cleanup()
