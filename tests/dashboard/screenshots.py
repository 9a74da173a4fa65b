"""`make screenshots`: start a local platform, fill it through the public APIs (tests/dashboard/data.py),
and photograph every dashboard page into docs/images/ (the README shows them)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.dashboard import data
from tests.dashboard.browser import VIEWPORT, NoBrowser, launch, sync_playwright
from tests.support.local_fixtures import start_local_platform

PAGES = (  # file name, path, what to do on the page before the picture
    ("dashboard-runs", "/runs", None),
    ("dashboard-run", "/runs/{shapes}", "expand-and-open-the-failed-task"),
    ("dashboard-artifacts", "/runs/{scoring}", "open-score"),
    ("dashboard-experiment", "/experiments/branin?namespace=kubeflow", None),
    ("dashboard-models", "/models", None),
    ("dashboard-rollouts", "/rollouts", None),
    ("dashboard-platform", "/platform", None),
)


def prepare(page, action: str | None) -> None:
    if action == "expand-and-open-the-failed-task":
        page.get_by_role("button", name="Expand all").click()
        page.locator('svg.dag g.node[data-name="explode"]').click()
        page.locator("#task-panel pre.task-log").wait_for()
    elif action == "open-score":
        page.locator('svg.dag g.node[data-name="score"]').click()
        page.locator("#task-panel .chart.roc svg").wait_for()
        page.frame_locator("iframe.html-preview").locator("h1").wait_for()
        # A full-page picture leaves frames outside the viewport blank: make the viewport the whole page.
        page.set_viewport_size({"width": VIEWPORT["width"], "height": page.evaluate("document.body.scrollHeight")})


def photograph(platform, runs: dict[str, str], directory: Path, profile: Path) -> list[Path]:
    written = []
    with sync_playwright() as playwright:
        browser = launch(playwright, profile)
        page = browser.new_page()
        for name, path, action in PAGES:
            page.set_viewport_size(VIEWPORT)
            page.goto(platform.url("dashboard") + path.format(**runs))
            page.wait_for_load_state("networkidle")
            prepare(page, action)
            page.wait_for_timeout(300)   # the charts' last frame
            written.append(directory / f"{name}.png")
            page.screenshot(path=str(written[-1]), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(platform.url("dashboard") + f"/runs/{runs['scoring']}")
        page.wait_for_load_state("networkidle")
        written.append(directory / "dashboard-run-390px.png")
        page.screenshot(path=str(written[-1]))
        browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", type=Path, help="where the PNG files go (docs/images)")
    directory = parser.parse_args().directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlp-screenshots-") as work:
        platform = start_local_platform(Path(work) / "state")
        try:
            runs = data.fill(platform, Path(work))
            written = photograph(platform, runs, directory, Path(work) / "profile")
        except NoBrowser as missing:
            print(f"error: {missing}", file=sys.stderr)
            return 2
        finally:
            platform.down()
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
