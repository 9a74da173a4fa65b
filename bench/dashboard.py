"""Dashboard first render in headless Chromium (writes bench/results/dashboard.json):

1. the runs list of a controller holding 1,000 runs (its first page of 50, and a page of 200);
2. the run page of a finished run whose DAG has 200 tasks (20 layers of 10), every task drawn.

The runs are real rows of the controller's store (as bench/pipelines_scale.py stores them), served by a real
`mlp serve pipelines`; the dashboard is `mlp serve dashboard --pipelines-url` in front of it. "First render"
is from navigation start until the page has painted with its rows, or with all 200 DAG nodes drawn (the
browser's own timings: first contentful paint, DOMContentLoaded, and a mark app.js sets after drawing).
Goal: at most 1 s each.

Usage: .venv/bin/python bench/dashboard.py
(No `from __future__ import annotations`: kfp reads the components' real annotations.)
"""

import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import yaml
from common import summarize, write_result  # (common puts the project on sys.path)
from kfp import compiler, dsl

from mlplatform.net import free_port, wait_for_http
from tests.dashboard.browser import launch, sync_playwright
from tests.support.service_process import MLP, ServiceProcess

RUNS = 1_000
LAYERS, WIDTH = 20, 10
SAMPLES = 7
GOAL_SECONDS = 1.0


@dsl.component(base_image="python:3.11")
def step(index: int) -> int:
    return index


@dsl.pipeline(name="small")
def small():
    step(index=step(index=0).output)


@dsl.pipeline(name="wide-and-deep")
def wide_and_deep():
    previous = []
    for layer in range(LAYERS):
        current = [step(index=layer * WIDTH + column) for column in range(WIDTH)]
        for column, task in enumerate(current):
            if previous:
                task.after(previous[column], previous[(column + 1) % WIDTH])
        previous = current


def compiled(pipeline, workdir: Path) -> dict:
    package = workdir / "pipeline.yaml"
    compiler.Compiler().compile(pipeline, str(package))
    return yaml.safe_load(package.read_text())


def store_runs(workdir: Path) -> str:
    """RUNS finished runs of a 2-task pipeline, the last one with the 200-task DAG and its tasks; returns its id."""
    from sqlalchemy import create_engine

    from mlplatform.pipelines.store import Run, Store, Task
    from mlplatform.pipelines.store.models import Experiment

    spec, usual = compiled(wide_and_deep, workdir), compiled(small, workdir)
    store = Store(create_engine(f"sqlite:///{workdir / 'state.db'}"))
    now = time.time()
    big = str(uuid.uuid4())
    with store.session() as session:
        experiment = Experiment(display_name="bench")
        session.add(experiment)
        session.flush()
        session.add_all(
            Run(id=big if index == RUNS - 1 else str(uuid.uuid4()), experiment_id=experiment.id,
                display_name=f"bench-{index}", pipeline_spec=spec if index == RUNS - 1 else usual, parameters={"rows": index},
                state="SUCCEEDED" if index % 7 else "FAILED", created_at=now - RUNS + index, finished_at=now,
                state_history=[], outputs={})
            for index in range(RUNS))
        session.add_all(
            Task(run_id=big, path=name, name=name, kind="executor", component="comp-step",
                 state="SUCCEEDED" if number % 13 else "FAILED", inputs={}, outputs={}, state_history=[],
                 created_at=now)
            for number, name in enumerate(spec["root"]["dag"]["tasks"]))
    return big


# Milliseconds from navigation start: the page's first contentful paint, its DOM complete, and the DAG drawn
# (app.js marks "dag-drawn" once every node is in the SVG); first render is the latest of those it has.
TIMINGS = """() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const navigation = performance.getEntriesByType("navigation")[0];
  const drawn = performance.getEntriesByName("dag-drawn")[0];
  return Math.max(paint ? paint.startTime : 0, navigation.domContentLoadedEventEnd, drawn ? drawn.startTime : 0);
}"""


def first_render(page, url: str, selector: str, count: int) -> float:
    page.goto(url, wait_until="load")
    page.wait_for_function(f"document.querySelectorAll({selector!r}).length >= {count}")
    return page.evaluate(TIMINGS) / 1000


def measure(page, url: str, selector: str, count: int) -> dict:
    first_render(page, url, selector, count)   # warm: the server's first request and the browser's cache
    return summarize([first_render(page, url, selector, count) for _ in range(SAMPLES)])


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mlp-bench-dashboard-") as work:
        workdir = Path(work)
        big = store_runs(workdir)
        controller = ServiceProcess("pipelines", workdir).start()
        port = free_port()
        dashboard = subprocess.Popen([str(MLP), "serve", "dashboard", "--port", str(port), "--pipelines-url",
                                      controller.url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(f"{url}/readyz", timeout=60, what="mlp serve dashboard", alive=lambda: dashboard.poll() is None)
            with sync_playwright() as playwright:
                browser = launch(playwright, workdir / "profile")
                page = browser.new_page()
                results = {
                    "runs_list_page_50": measure(page, f"{url}/runs", "table.runs tbody tr", 50),
                    "runs_list_page_200": measure(page, f"{url}/runs?page_size=200", "table.runs tbody tr", 200),
                    "run_page_200_task_dag": measure(page, f"{url}/runs/{big}", "svg.dag g.node", LAYERS * WIDTH),
                }
                browser.close()
        finally:
            dashboard.terminate()
            dashboard.wait(timeout=10)
            controller.stop()
    medians = [result["median"] for result in results.values()]
    write_result("dashboard", {
        "runs_stored": RUNS, "dag_tasks": LAYERS * WIDTH, "samples": SAMPLES, "seconds": results,
        "goal_seconds": GOAL_SECONDS, "meets_goal": max(medians) <= GOAL_SECONDS,
    })


if __name__ == "__main__":
    main()
