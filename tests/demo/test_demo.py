"""`mlp demo` end to end: the whole fraud story in local mode, as `make demo` runs it (smaller data)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import requests

from mlplatform.demo.cli import STEPS

# The longest test with tests/docs' canary.md scenario (the demo again): under pytest-xdist the two share the
# "demo" group, so two whole demos never run at once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


def mlp(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlplatform.cli", *args], capture_output=True, text=True,
                          check=False, timeout=timeout)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo as `make demo` runs it: the platform stays up afterwards (tests/demo/test_demo_distributed.py
    covers --down); it is stopped when the module's tests are done."""
    state_dir = tmp_path_factory.mktemp("demo") / "state"
    completed = mlp("demo", "--state-dir", str(state_dir), "--rows", "5000", "--trials", "4", timeout=600)
    try:
        assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
        yield completed.stdout, json.loads((state_dir / "demo-summary.json").read_text()), state_dir
    finally:
        mlp("local", "down", "--state-dir", str(state_dir))


def test_every_step_runs_in_order_with_progress(demo_run):
    output, summary, _ = demo_run
    assert [step["step"] for step in summary["steps"]] == [title for title, _ in STEPS]
    for number, (title, _) in enumerate(STEPS, start=1):
        assert f"[{number}/{len(STEPS)}] {title}" in output


def test_the_tuned_version_replaces_the_baseline_after_the_canary(demo_run):
    output, summary, _ = demo_run
    facts = summary["facts"]
    assert facts["baseline_version"] == "models:/fraud/1"
    assert facts["candidate_version"] == "models:/fraud/2"
    assert "stable model: models:/fraud/2 (was models:/fraud/1)" in output
    assert facts["tuning"]["trials"] == 4
    assert 0.5 < facts["tuning"]["best_metrics"]["auc"] <= 1.0
    traffic = facts["traffic"]
    assert traffic["requests"] > 100 and traffic["errors"] == 0
    assert set(traffic["by_track"]) == {"stable", "canary"}


def test_the_platform_is_validated_and_left_running(demo_run):
    output, summary, state_dir = demo_run
    assert summary["steps"][-1]["outcome"].startswith("PASSED")
    assert mlp("local", "status", "--state-dir", str(state_dir)).returncode == 0, output[-2000:]


def test_the_printed_dashboard_url_shows_the_demos_runs_experiment_models_and_rollout(demo_run):
    output, summary, _ = demo_run
    url = re.search(r"open the dashboard: (\S+?)/?\s", output).group(1)
    facts = summary["facts"]

    def page(path: str) -> str:
        answer = requests.get(url + path, timeout=30)
        assert answer.status_code == 200, (path, answer.text[:500])
        return answer.text

    runs = page("/runs")
    for run in (facts["baseline_run"], facts["tuned_run"]):
        assert f"/runs/{run['run_id']}" in runs, runs[:3000]
        assert "SUCCEEDED" in page(f"/runs/{run['run_id']}")
    assert facts["tuning"]["experiment"] in page("/experiments")
    models = page("/models")
    assert "champion" in models and "challenger" in models, models[:3000]
    assert facts["candidate_version"].rsplit("/", 1)[-1] in models
    assert "promoted" in page("/rollouts").lower()
