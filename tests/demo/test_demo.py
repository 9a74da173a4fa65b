"""`mlp demo` end to end: the whole fraud story in local mode, as `make demo` runs it (smaller data)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mlplatform.demo.cli import STEPS

# The longest test with tests/docs' canary.md scenario (the demo again): under pytest-xdist the two share the
# "demo" group, so two whole demos never run at once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("demo") / "state"
    completed = subprocess.run(
        [sys.executable, "-m", "mlplatform.cli", "demo", "--state-dir", str(state_dir), "--rows", "5000",
         "--trials", "4", "--down"],
        capture_output=True, text=True, check=False, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout, json.loads((state_dir / "demo-summary.json").read_text()), state_dir


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


def test_the_platform_is_validated_and_stopped(demo_run):
    output, summary, state_dir = demo_run
    assert summary["steps"][-1]["outcome"].startswith("PASSED")
    assert "the platform is stopped" in output
    status = subprocess.run([sys.executable, "-m", "mlplatform.cli", "local", "status", "--state-dir", str(state_dir)],
                            capture_output=True, text=True, check=False, timeout=60)
    assert status.returncode == 1   # nothing left running
