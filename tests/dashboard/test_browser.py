"""The dashboard in a real browser against a real local platform: runs made with kfp.Client, an experiment
posted to the tuning API, models in MLflow and a canary rollout held at 50 %, all through the public APIs."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from mlplatform.serving.traffic import Traffic
from tests.dashboard import data
from tests.dashboard.pipelines import fails_once, slow_chain
from tests.support.local_fixtures import inference_request, start_local_platform

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("dashboard")
    started = start_local_platform(workdir / "state")
    try:
        started.runs = data.fill(started, workdir)
        yield started
    finally:
        started.down()


def dashboard(platform, path: str = "") -> str:
    return platform.url("dashboard") + path


def dag_nodes(page) -> dict[str, str]:
    """Each drawn task's name -> its state (loop iterations repeat a name: the last wins)."""
    nodes = page.locator("svg.dag g.node")
    return {node.get_attribute("data-name"): node.get_attribute("data-state") for node in nodes.all()}


def test_the_link_kfp_client_prints_opens_the_run_page(platform, page):
    run_id = platform.runs["shapes"]
    page.goto(f"{platform.url('pipeline-controller')}/#/runs/details/{run_id}")
    expect(page).to_have_url(re.compile(f"/dashboard/runs/{run_id}$"))
    expect(page.locator("h1")).to_contain_text("shapes")
    expect(page.locator("svg.dag g.node").first).to_be_visible()
    assert page.title().startswith("Run shapes")


def test_the_experiment_link_kfp_prints_opens_the_experiments_runs(platform, page):
    run_id = platform.runs["shapes"]
    controller = platform.url("pipeline-controller")
    experiment_id = requests.get(f"{controller}/apis/v2beta1/runs/{run_id}", timeout=10).json()["experiment_id"]
    page.goto(f"{controller}/#/experiments/details/{experiment_id}")
    expect(page).to_have_url(re.compile(f"/dashboard/runs\\?experiment_id={experiment_id}$"))
    expect(page.locator(f'a[href$="/runs/{run_id}"]')).to_be_visible()


def test_the_dag_shows_every_task_with_its_state_groups_collapsed(platform, page):
    page.goto(dashboard(platform, f"/runs/{platform.runs['shapes']}"))
    expect(page.locator("svg.dag g.node")).to_have_count(3)
    assert dag_nodes(page) == {"scoring": "SUCCEEDED", "for-loop-2": "SUCCEEDED", "condition-3": "FAILED"}
    page.get_by_role("button", name="Expand all").click()
    expect(page.locator("svg.dag g.node")).to_have_count(5)   # make-table, score, square twice, explode
    assert dag_nodes(page) == {"make-table": "SUCCEEDED", "score": "SUCCEEDED", "square": "SUCCEEDED",
                               "explode": "FAILED"}
    expect(page.locator("svg.dag g.cluster")).to_have_count(5)  # scoring, the loop, 2 iterations, the condition


def test_a_failed_task_shows_its_log(platform, page):
    page.goto(dashboard(platform, f"/runs/{platform.runs['shapes']}"))
    page.locator('svg.dag g.node[data-name="condition-3"]').click()   # expand the condition
    page.locator('svg.dag g.node[data-name="explode"]').click()
    panel = page.locator("#task-panel")
    expect(panel.locator("h2")).to_contain_text("explode")
    expect(panel.locator("pre.task-log")).to_contain_text("about to fail: the boom the test looks for")
    expect(panel.locator("pre.task-log")).to_contain_text("RuntimeError")


def test_the_dag_follows_a_running_run_live(platform, page):
    run_id = data.submit(platform, slow_chain, seconds=2.0)
    page.goto(dashboard(platform, f"/runs/{run_id}"))
    nodes = page.locator("svg.dag g.node")
    expect(nodes).to_have_count(2)
    expect(page.locator('svg.dag g.node[data-state="RUNNING"]')).to_have_count(1, timeout=30_000)
    expect(page.locator('svg.dag g.node[data-state="SUCCEEDED"]')).to_have_count(2, timeout=60_000)
    expect(page.locator("#run-state")).to_have_text("SUCCEEDED")


def test_artifacts_preview_metrics_charts_markdown_html_and_csv(platform, page):
    page.goto(dashboard(platform, f"/runs/{platform.runs['scoring']}"))
    page.locator('svg.dag g.node[data-name="score"]').click()
    panel = page.locator("#task-panel")
    expect(panel.locator("table.metrics")).to_contain_text("accuracy")
    expect(panel.locator("table.metrics")).to_contain_text("0.875")
    expect(panel.locator("table.confusion")).to_contain_text("fraud")
    expect(panel.locator(".chart.roc svg")).to_be_visible()
    expect(panel.locator(".markdown h1")).to_have_text("Notes")
    expect(page.frame_locator("iframe.html-preview").locator("h1")).to_have_text("Scored")
    page.locator('svg.dag g.node[data-name="make-table"]').click()
    expect(panel.locator("table.csv thead")).to_contain_text("amount")
    expect(panel.locator("table.csv tbody tr")).to_have_count(10)


def test_runs_filter_page_and_compare(platform, page):
    page.goto(dashboard(platform, "/runs?state=FAILED"))
    rows = page.locator("table.runs tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("shapes")
    page.goto(dashboard(platform, "/runs?page_size=1&sort=name"))
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
    page.goto(dashboard(platform, "/runs"))
    for name in ("scoring", "shapes"):
        page.locator("table.runs tr", has_text=name).first.locator("input[type=checkbox]").check()
    page.get_by_role("button", name=re.compile("Compare selected")).click()
    expect(page.locator("h1")).to_have_text("Compare 2 runs")
    expect(page.locator("table.compare").last).to_contain_text("score.accuracy")


def test_the_trial_plot_has_one_point_per_trial(platform, page):
    page.goto(dashboard(platform, "/experiments"))
    page.get_by_role("link", name="branin").click()
    expect(page.locator("table.trials tbody tr")).to_have_count(6)
    expect(page.locator("#objective-chart svg")).to_be_visible()
    drawn = page.evaluate("echarts.getInstanceByDom(document.getElementById('objective-chart'))"
                          ".getModel().getSeriesByIndex(0).getData().count()")
    assert drawn == 6
    lines = page.evaluate("echarts.getInstanceByDom(document.getElementById('parallel-chart'))"
                          ".getModel().getSeriesByIndex(0).getData().count()")
    assert lines == 6
    expect(page.locator("section.optimal code")).to_have_text(re.compile("branin-"))


def test_models_show_aliases_and_the_version_each_track_serves(platform, page):
    page.goto(dashboard(platform, "/models"))
    rows = page.locator("section.model tbody tr")
    expect(rows.filter(has_text="v1")).to_contain_text("@champion")
    expect(rows.filter(has_text="v1")).to_contain_text("stable")
    expect(rows.filter(has_text="v2")).to_contain_text("@challenger")
    expect(rows.filter(has_text="v2")).to_contain_text("canary")
    expect(page.locator("table.loaded tbody")).to_contain_text(data.MODEL)   # the model server's repository index


def test_platform_page_shows_validation_per_component(platform, page):
    page.goto(dashboard(platform, "/platform"))
    table = page.locator("table tbody")
    for component in ("pipeline-controller", "tuning-service", "model-registry", "prometheus"):
        expect(table).to_contain_text(component)


def test_live_traffic_by_track_comes_from_prometheus(platform, page):
    url = platform.url("model-server") + f"/v2/models/{data.MODEL}/infer"
    with Traffic(url, inference_request(), rate=20):
        page.wait_for_timeout(4000)   # two scrapes and a rule evaluation (1 s intervals) see it
    page.goto(dashboard(platform, "/rollouts"))
    rows = page.locator("table.traffic tbody tr")
    expect(rows.filter(has_text="stable")).to_have_count(1)
    expect(rows.filter(has_text="canary")).to_have_count(1)   # the held canary takes 50 %
    expect(rows.filter(has_text="stable")).to_contain_text("100.00%")


def test_promote_from_the_button_after_a_confirmation(platform, page):
    page.goto(dashboard(platform, "/rollouts"))
    expect(page.locator("#weight")).to_have_text("50%")
    expect(page.locator("table.steps tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Promote…").click()
    expect(page.locator("h1")).to_have_text("Promote the canary?")
    assert platform.values()["modelServer"]["canary"]["weight"] == 50   # nothing happens before the confirmation
    page.get_by_role("button", name="Yes, promote").click()
    expect(page.locator(".done")).to_contain_text("promoted")
    expect(page.locator("#weight")).to_have_text("0%")
    values = platform.values()["modelServer"]
    assert [m["uri"] for m in values["models"]] == ["models:/iris@challenger"]
    assert values["canary"]["enabled"] is False
    expect(page.locator("section[aria-label='Last rollout'] h2")).to_contain_text("promoted")


def test_keyboard_opens_a_task_and_narrow_screens_do_not_scroll_sideways(platform, page):
    page.goto(dashboard(platform, f"/runs/{platform.runs['scoring']}"))
    page.locator('svg.dag g.node[data-name="make-table"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#task-panel h2")).to_contain_text("make-table")
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/runs", f"/runs/{platform.runs['scoring']}", "/experiments/branin?namespace=kubeflow", "/models"):
        page.goto(dashboard(platform, path))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path


def test_a_pipeline_versions_graph_before_it_runs(platform, page, tmp_path):
    from kfp import compiler

    from tests.dashboard.pipelines import scoring

    package = tmp_path / "scoring.yaml"
    compiler.Compiler().compile(scoring, str(package))
    data.kfp_client(platform).upload_pipeline(str(package), pipeline_name="scoring-uploaded")
    page.goto(dashboard(platform, "/pipelines"))
    page.get_by_role("link", name="scoring-uploaded").click()
    expect(page.locator("svg.dag g.node")).to_have_count(2)
    assert dag_nodes(page) == {"make-table": "NOT_STARTED", "score": "NOT_STARTED"}


def test_terminate_from_the_run_page(platform, page):
    run_id = data.submit(platform, slow_chain, seconds=30.0)
    page.goto(dashboard(platform, f"/runs/{run_id}"))
    page.get_by_role("button", name="Terminate").click()
    expect(page.locator("#run-state")).to_have_text(re.compile("CANCEL"), timeout=30_000)
    assert data.wait_for_run(platform, run_id, timeout=60)["state"] == "CANCELED"


def test_retry_from_the_run_page_runs_the_failed_task_again_live(platform, page, tmp_path):
    run_id = data.submit(platform, fails_once, marker=str(tmp_path / "failed-once"), seconds=3.0)
    assert data.wait_for_run(platform, run_id)["state"] == "FAILED"
    page.goto(dashboard(platform, f"/runs/{run_id}"))
    expect(page.locator("svg.dag g.node")).to_have_count(1)
    assert dag_nodes(page) == {"fail-first": "FAILED"}
    page.get_by_role("button", name="Retry").click()
    expect(page.locator("#run-state")).to_have_text("RUNNING")   # the retried run's page, polling
    page.evaluate("window.sameDocument = true")
    expect(page.locator('svg.dag g.node[data-state="SUCCEEDED"]')).to_have_count(1, timeout=60_000)
    expect(page.locator("#run-state")).to_have_text("SUCCEEDED")
    assert page.evaluate("window.sameDocument === true"), "the page reloaded to show the new state"
    assert data.wait_for_run(platform, run_id, timeout=10)["state"] == "SUCCEEDED"


def test_early_stopped_trials_are_marked_in_the_table_the_plot_and_the_summary(platform, page):
    page.goto(dashboard(platform, f"/experiments/{data.EARLY_STOPPING}?namespace=kubeflow"))
    rows = page.locator("table.trials tbody tr")
    stopped = rows.filter(has_text="EarlyStopped")
    count = stopped.count()
    assert 0 < count < rows.count()
    expect(stopped.filter(has_text="⏹")).to_have_count(count)
    expect(rows.filter(has_text="⏹")).to_have_count(count)
    expect(page.locator("p.meta")).to_contain_text(f"{count} early-stopped")
    expect(page.locator("#objective-chart svg")).to_be_visible()
    series = page.evaluate("Object.fromEntries(echarts.getInstanceByDom(document.getElementById('objective-chart'))"
                           ".getOption().series.map((s) => [s.name, s.data.length]))")
    assert series["early-stopped"] == count, series
    assert series["trial"] == rows.count() - count, series
    expect(page.locator("#objective-chart")).to_contain_text("early-stopped")   # in the legend
    page.goto(dashboard(platform, "/experiments"))
    expect(page.locator("tr", has_text=data.EARLY_STOPPING)).to_contain_text(f"{count} early-stopped")


def test_abort_from_the_button_after_a_confirmation(platform, page):
    held = platform.values()["modelServer"]
    held["canary"] = {**held["canary"], "enabled": True, "weight": 30,
                      "models": [{"name": data.MODEL, "uri": f"models:/{data.MODEL}/1"}]}
    platform.apply({"modelServer": held})   # a canary held at 30 %, as a rollout leaves it
    page.goto(dashboard(platform, "/rollouts"))
    expect(page.locator("#weight")).to_have_text("30%")
    page.get_by_role("link", name="Abort…").click()
    expect(page.locator("h1")).to_have_text("Abort the canary?")
    assert platform.values()["modelServer"]["canary"]["weight"] == 30   # nothing happens before the confirmation
    page.get_by_role("button", name="Yes, abort").click()
    expect(page.locator(".done")).to_contain_text("aborted")
    expect(page.locator("#weight")).to_have_text("0%")
    canary = platform.values()["modelServer"]["canary"]
    assert canary["enabled"] is False and canary["weight"] == 0 and not canary["models"]
    assert platform.values()["modelServer"]["models"] == held["models"]   # stable keeps what it served


# The WCAG contrast ratio of an element's colour (or its outline's) against the first opaque background
# behind it.
CONTRAST = r"""([element, what]) => {
  const channels = (colour) => colour.match(/[\d.]+/g).map(Number);
  const opaque = (node) => (channels(getComputedStyle(node).backgroundColor)[3] ?? 1) > 0;
  const luminance = (colour) => channels(colour).slice(0, 3).map((v) => v / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  let behind = what === "outline" ? element.parentElement : element;
  while (behind && !opaque(behind)) behind = behind.parentElement;
  const style = getComputedStyle(element);
  const [a, b] = [luminance(what === "outline" ? style.outlineColor : style.color),
                  luminance(behind ? getComputedStyle(behind).backgroundColor : "rgb(255, 255, 255)")];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def contrast(page, selector: str, what: str = "text") -> list[float]:
    return [node.evaluate(f"(element) => ({CONTRAST})([element, {what!r}])") for node in page.locator(selector).all()]


def tab_to(page, label: str, presses: int = 15):
    """Press Tab until the focused element reads `label`; returns it."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == label:
            return page.locator("*:focus")
    raise AssertionError(f"{presses} Tab presses did not reach {label!r}")


def test_every_page_is_reachable_from_the_nav_with_tab_and_enter_with_a_visible_focus(platform, page):
    page.goto(dashboard(platform, "/runs"))
    for label, path in (("Pipelines", "/pipelines"), ("Experiments", "/experiments"), ("Models", "/models"),
                        ("Rollouts", "/rollouts"), ("Platform", "/platform"), ("Token", "/token"), ("Runs", "/runs")):
        link = tab_to(page, label)
        assert link.evaluate("(e) => getComputedStyle(e).outlineStyle") != "none", label
        assert link.evaluate("(e) => parseFloat(getComputedStyle(e).outlineWidth)") >= 2, label
        assert min(contrast(page, "*:focus", "outline")) >= 3, f"{label}: the focus outline is hard to see"
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(f"{path}$"))
        expect(page.locator("main h1")).to_be_visible()
    page.goto(dashboard(platform, f"/runs/{platform.runs['shapes']}"))
    tab_to(page, "Retry")
    assert min(contrast(page, "*:focus", "outline")) >= 3, "the focus outline in the page is hard to see"


def test_text_keeps_a_contrast_of_4_5_to_1(platform, page):
    page.goto(dashboard(platform, f"/runs/{platform.runs['shapes']}"))
    for selector in ("body", "header.top nav a", "header.top .brand", "p.meta", "p.hint", "main .state", "button"):
        ratios = contrast(page, selector)
        assert ratios and min(ratios) >= 4.5, f"{selector}: {ratios}"
