"""Screenshots of `sluice ui`'s main views for docs/ui/ (README, section "sluice ui").

Runs the repository's examples with `sluice run` under a temporary SLUICE_HOME (the suspend gate left
waiting), serves them with `sluice ui --local`, and photographs them in Debian's Chromium (Playwright,
tests/integration/ui_support.py). Rerun after changing the pages:

    .venv/bin/python tools/ui_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration.ui_support import (  # noqa: E402
    EXAMPLES,
    chromium_path,
    launch_chromium,
    run,
    start_run,
    ui_server,
)

OUT = REPO / "docs" / "ui"
VIEW = {"width": 1280, "height": 760}


def main() -> int:
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    if chromium is None:
        print("Chromium is missing (scripts/install-browser.sh)", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        for example, name in (("dag", "dag-demo"), ("loops", "loops-demo"), ("retries", "retries-demo")):
            run(home, EXAMPLES / f"{example}.yaml", name)
        run(home, EXAMPLES / "exit-handler.yaml", "exit-handler-demo")
        gate = start_run(home, EXAMPLES / "suspend-gate.yaml", "gate-demo")
        try:
            with ui_server(home) as url, sync_playwright() as p:
                browser = launch_chromium(p, chromium)
                page = browser.new_page(viewport=VIEW)
                page.set_default_timeout(60_000)
                page.goto(f"{url}/workflows")
                page.wait_for_selector('#workflows tr[data-name="gate-demo"]')
                page.screenshot(path=OUT / "list.png")

                page.goto(f"{url}/workflows/default/dag-demo")
                page.wait_for_selector('#graph .node[data-name="D"]')
                node_id = page.locator('#graph .node[data-name="C"]').get_attribute("data-id")
                page.goto(f"{url}/workflows/default/dag-demo?node={node_id}")
                page.wait_for_function("document.querySelector('#logs')?.dataset.done === '1'")
                page.screenshot(path=OUT / "graph-node-logs.png")

                page.goto(f"{url}/workflows/default/loops-demo")
                page.wait_for_selector("#graph .group")
                page.screenshot(path=OUT / "loops.png")

                page.goto(f"{url}/workflows/default/gate-demo")
                page.wait_for_selector('#graph .node[data-name="approve"][data-phase="Running"]')
                page.click("button[data-action=resume]")
                page.locator('dialog input[data-param="decision"]').fill("ship it")
                page.screenshot(path=OUT / "approval.png")
                browser.close()
        finally:
            gate.kill()
            gate.wait()
    for path in sorted(OUT.glob("*.png")):
        print(f"{path.relative_to(REPO)}: {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
