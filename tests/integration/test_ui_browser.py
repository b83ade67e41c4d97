"""`sluice ui` in a real browser: Debian's Chromium driven by Playwright for Python (never its own browser
download), against a real `sluice ui --local` process and real `sluice run` runs.

Chromium missing is a failure, not a skip: scripts/install-browser.sh installs it (scripts/test.sh runs
it as root, as CI does). Waits are on what the page shows, with generous timeouts for a loaded machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.integration import ui_support
from tests.integration.ui_support import EXAMPLES, run, start_run, ui_server

pytestmark = pytest.mark.browser

WAIT_MS = 90_000


def chromium_path() -> str:
    found = ui_support.chromium_path()
    if not found:
        pytest.fail("Chromium is missing: install Debian's package (scripts/install-browser.sh, as root)")
    return found


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = ui_support.launch_chromium(p, chromium_path())
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1300, "height": 850})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.set_default_timeout(WAIT_MS)
    yield pg
    context.close()
    assert errors == [], f"the page's script failed: {errors}"


def gated(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A workflow whose step runs until the test creates a file (then says so and ends)."""
    go = tmp_path / f"{name}.go"
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name},
        "spec": {
            "entrypoint": "main",
            "volumes": [{"name": "gate", "hostPath": {"path": str(tmp_path)}}],
            "templates": [
                {
                    "name": "main",
                    "steps": [[{"name": "work", "template": "wait"}], [{"name": "after", "template": "say"}]],
                },
                {
                    "name": "wait",
                    "container": {
                        "image": "busybox",
                        "command": [
                            "sh",
                            "-c",
                            f"echo waiting; while [ ! -f {go} ]; do sleep 0.1; done; echo released",
                        ],
                        # The file reaches the step through a hostPath volume, as it would reach a pod: a
                        # step's own view (sluice/runner/cowroot.py) need not see a file made after it began.
                        "volumeMounts": [{"name": "gate", "mountPath": str(tmp_path)}],
                    },
                },
                {"name": "say", "container": {"image": "busybox", "command": ["echo", "after the wait"]}},
            ],
        },
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path, go


def node(page, display_name: str):
    return page.locator(f'#graph .node[data-name="{display_name}"]')


def test_the_list_shows_the_runs_and_filters_them(tmp_path, page):
    home = tmp_path / "home"
    assert run(home, EXAMPLES / "steps.yaml", "list-ok") == 0
    assert run(home, EXAMPLES / "exit-handler.yaml", "list-bad") == 1
    with ui_server(home) as url:
        page.goto(f"{url}/workflows")
        rows = page.locator("#workflows tr[data-name]")
        rows.first.wait_for()
        assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.name)")) == ["list-bad", "list-ok"]
        assert page.locator('tr[data-name="list-bad"] .phase').inner_text() == "Failed"
        page.check('input[name=phase][value="Failed"]')
        page.click("#filters button[type=submit]")
        page.wait_for_url("**/workflows?phase=Failed")
        page.wait_for_function("document.querySelectorAll('#workflows tr[data-name]').length === 1")
        assert page.locator("#workflows tr[data-name]").get_attribute("data-name") == "list-bad"
        page.click('a[href="/workflows/default/list-bad"]')
        page.wait_for_url("**/workflows/default/list-bad")
        node(page, "list-bad.onExit").wait_for()  # the exit handler is part of the graph


def test_the_graph_changes_phase_live_as_the_run_goes_on(tmp_path, page):
    home = tmp_path / "home"
    path, go = gated(tmp_path, "live")
    proc = start_run(home, path, "live")
    try:
        with ui_server(home) as url:
            page.goto(f"{url}/workflows/default/live")
            page.wait_for_selector('#graph .node[data-name="work"][data-phase="Running"]')
            assert page.locator("#app").get_attribute("data-phase") == "Running"
            assert node(page, "after").count() == 0  # not started yet
            go.touch()
            # the same page, not reloaded: the events stream redraws it
            page.wait_for_selector('#graph .node[data-name="work"][data-phase="Succeeded"]')
            page.wait_for_selector('#graph .node[data-name="after"][data-phase="Succeeded"]')
            page.wait_for_selector('#app[data-phase="Succeeded"]')
            assert page.locator("h1 .phase").inner_text() == "Succeeded"
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()


def test_node_details_and_logs_follow_and_deep_links(tmp_path, page):
    home = tmp_path / "home"
    path, go = gated(tmp_path, "logs")
    proc = start_run(home, path, "logs")
    try:
        with ui_server(home) as url:
            page.goto(f"{url}/workflows/default/logs")
            node(page, "work").locator("rect").click()
            page.wait_for_url("**/workflows/default/logs?node=*")
            details = page.locator("#details")
            details.locator("h2", has_text="work").wait_for()
            assert "logs-wait-" in details.inner_text()  # the pod's name
            # a local run's steps have one container (a cluster's pods also offer init and wait)
            assert page.locator("#container option").all_inner_texts() == ["main"]
            page.wait_for_function("document.querySelector('#logs').textContent.includes('waiting')")
            go.touch()  # the followed log gets the rest as it is written
            page.wait_for_function("document.querySelector('#logs').textContent.includes('released')")
            page.wait_for_selector('#app[data-phase="Succeeded"]')
            node_id = page.evaluate("new URLSearchParams(location.search).get('node')")
        assert proc.wait(timeout=60) == 0
        with ui_server(home) as url:  # a deep link opens the node with its details and logs
            page.goto(f"{url}/workflows/default/logs?node={node_id}")
            page.wait_for_selector(f'#graph .node.selected[data-id="{node_id}"]')
            page.wait_for_function("document.querySelector('#logs')?.dataset.done === '1'")
            assert page.locator("#logs").inner_text().split() == ["waiting", "released"]
            assert "exit code" in page.locator("#details").inner_text()
    finally:
        proc.kill()


def test_an_approval_gate_is_resumed_from_the_ui_with_its_parameter(tmp_path, page):
    home = tmp_path / "home"
    proc = start_run(home, EXAMPLES / "suspend-gate.yaml", "gate-ui")
    try:
        with ui_server(home) as url:
            page.goto(f"{url}/workflows/default/gate-ui")
            page.wait_for_selector('#graph .node[data-name="approve"][data-phase="Running"]')
            page.click("button[data-action=resume]")
            dialog = page.locator("dialog#confirm")
            dialog.wait_for()
            field = dialog.locator('input[data-param="decision"]')
            assert field.input_value() == "ship"  # the gate's default
            page.click("#cancel")  # cancelled: nothing happens
            assert node(page, "approve").get_attribute("data-phase") == "Running"
            page.click("button[data-action=resume]")
            field.fill("hold")
            page.click("#confirm-ok")
            page.wait_for_selector('#graph .node[data-name="release"][data-phase="Succeeded"]')
            page.wait_for_selector('#app[data-phase="Succeeded"]')
            assert node(page, "approve").get_attribute("data-phase") == "Succeeded"
            assert page.locator("button[data-action=resume]").count() == 0  # nothing to resume now
            node(page, "release").locator("rect").click()
            page.wait_for_function("document.querySelector('#logs')?.textContent.includes('approved: hold')")
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
