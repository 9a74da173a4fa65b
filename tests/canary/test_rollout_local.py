"""`mlp canary rollout --local` end to end: real MLServers behind nginx, real traffic, real Prometheus.

Short analyses (checks 2 s apart, 3 per step) over few steps (25, 50, 100) keep each rollout to seconds.
A healthy canary is promoted through every step; a canary failing 5 % of its requests, one 200 ms slower,
one judged while Prometheus dies, and one that gets no traffic are all sent back to weight 0 before 100 %.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mlplatform.serving.traffic import Traffic
from tests.support.faulty_runtime import IMPLEMENTATION, save_faulty_model
from tests.support.local_fixtures import inference_request, save_iris_model, start_local_platform

# Latencies under real traffic: under pytest-xdist, never beside another "canary-timing" test (tests/README.md).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("canary-timing")]

STABLE = "s3://models/iris/1"
MLP = [sys.executable, "-c", "from mlplatform.cli import main; main()"]
RATE = 30                      # requests per second through nginx: at 25 %, ~15 canary requests per check
ANALYSIS = {"intervalSeconds": 2, "iterations": 3, "failureLimit": 1, "minRequests": 5,
            "minSuccessRate": 0.99, "maxLatencyP99Seconds": 0.5, "maxLatencyRatio": 3}
CANARIES = {"healthy": {}, "errors": {"error_rate": 0.05}, "slow": {"delay_seconds": 0.2}}


def prepare(platform, workdir: Path) -> None:
    """The stable iris model, the canary candidates and the analysis settings, uploaded and applied."""
    platform.upload_directory(save_iris_model(workdir / "stable"), STABLE)
    for name, faults in CANARIES.items():
        platform.upload_directory(save_faulty_model(workdir / name, **faults), f"s3://models/iris/{name}")
    reset(platform)


def reset(platform) -> None:
    platform.apply({"modelServer": {"models": [{"name": "iris", "uri": STABLE}],
                                    "canary": {"enabled": False, "weight": 0, "models": [],
                                               "analysis": ANALYSIS}}})


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("canary-rollout")
    started = start_local_platform(workdir / "state", components=("model-server", "prometheus"))
    try:
        prepare(started, workdir)
        yield started
    finally:
        started.down()


def rollout_command(platform, canary: str, report: Path, steps: str = "25,50,100") -> list[str]:
    """`mlp canary rollout --local` of one candidate, served by the faulty runtime (healthy: no faults)."""
    return [*MLP, "canary", "rollout", "--local",
            "--state-dir", str(platform.state_dir), "--version", f"s3://models/iris/{canary}",
            "--implementation", IMPLEMENTATION, "--steps", steps, "--report", str(report)]


def canary_command(platform, action: str, report: Path) -> dict | None:
    """`mlp canary promote|abort|status --local`; the status as JSON."""
    args = ["--output", "json"] if action == "status" else []
    result = subprocess.run([*MLP, "canary", action, "--local", "--state-dir", str(platform.state_dir),
                             "--report", str(report), *args], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout) if action == "status" else None


def rollout(platform, canary: str, report: Path, rate: float | None = RATE,
            steps: str = "25,50,100") -> subprocess.CompletedProcess:
    command = rollout_command(platform, canary, report, steps)
    if rate is None:
        return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    with Traffic(platform.url("model-server") + "/v2/models/iris/infer", inference_request(), rate=rate) as traffic:
        result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    result.traffic = traffic.stats()
    return result


def served(platform) -> tuple[list[str], dict]:
    values = platform.values()["modelServer"]
    return [m["uri"] for m in values["models"]], values["canary"]


def nginx_weight(platform) -> int:
    import requests

    return requests.get(platform.url("model-server") + "/-/weight", timeout=5).json()["canary"]


def assert_rolled_back(platform, result, report: Path) -> dict:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "aborting: traffic back to stable" in result.stdout and "promoting" not in result.stdout
    uris, canary = served(platform)
    assert uris == [STABLE] and canary["enabled"] is False and canary["models"] == []
    assert nginx_weight(platform) == 0
    document = json.loads(report.read_text())
    assert document["outcome"] == "aborted" and document["results"][-1]["passed"] is False
    assert all(step["weight"] < 100 for step in document["results"])
    return document


def test_a_healthy_canary_is_promoted_through_every_step(platform, tmp_path):
    report = tmp_path / "healthy.json"
    result = rollout(platform, "healthy", report)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        for line in ("step 1/3 weight 25%: upgrading…", "step 2/3 weight 50%: check 3/3", "step 3/3 weight 100%: passed",
                     "promoting"):
            assert line in result.stdout, result.stdout
        uris, canary = served(platform)
        assert uris == ["s3://models/iris/healthy"] and canary["enabled"] is False and canary["weight"] == 0
        assert nginx_weight(platform) == 0
        document = json.loads(report.read_text())
        assert document["outcome"] == "promoted" and [s["weight"] for s in document["results"]] == [25, 50, 100]
        assert all(len(s["analysis"]["checks"]) == 3 for s in document["results"])
        assert result.traffic.error_rate < 0.01, result.traffic.by_status
        assert result.traffic.by_track.get("canary", 0) > 0
    finally:
        reset(platform)


@pytest.mark.parametrize(("canary", "reason"), [("errors", "success rate"), ("slow", "p99")])
def test_a_bad_canary_goes_back_to_weight_0_before_100(platform, tmp_path, canary, reason):
    report = tmp_path / f"{canary}.json"
    try:
        result = rollout(platform, canary, report)
        document = assert_rolled_back(platform, result, report)
        assert reason in document["results"][-1]["reason"], document["results"][-1]
        assert document["results"][0]["weight"] == 25 and len(document["results"]) == 1
    finally:
        reset(platform)


def test_no_traffic_is_no_promotion(platform, tmp_path):
    report = tmp_path / "idle.json"
    try:
        result = rollout(platform, "healthy", report, rate=None)
        document = assert_rolled_back(platform, result, report)
        reason = document["results"][0]["reason"]
        assert "not enough traffic" in reason
        assert f"send inference requests to {platform.url('model-server')}/v2/models/iris/infer" in reason
        assert "mlp traffic /v2/models/iris/infer" in reason
        shown = canary_command(platform, "status", report)
        assert shown["weight"] == 0 and shown["stable"]["models"][0]["uri"] == STABLE
        assert shown["last_rollout"]["outcome"] == "aborted"
    finally:
        reset(platform)


@pytest.mark.parametrize("action", ["promote", "abort"])
def test_status_shows_how_a_held_rollout_ended(platform, tmp_path, action):
    report = tmp_path / "held.json"
    try:
        result = rollout(platform, "healthy", report, steps="25")
        assert result.returncode == 0, result.stdout + result.stderr
        assert canary_command(platform, "status", report)["last_rollout"]["outcome"] == "holding"
        canary_command(platform, action, report)
        shown = canary_command(platform, "status", report)
        assert shown["last_rollout"]["outcome"] == {"promote": "promoted", "abort": "aborted"}[action] and f"mlp canary {action}" in shown["last_rollout"]["reason"]
        assert shown["weight"] == 0
    finally:
        reset(platform)


def rollout_interrupted(platform, report: Path, interrupt) -> subprocess.CompletedProcess:
    """A healthy canary's rollout under traffic, with `interrupt(process)` called at its first analysis check."""
    with Traffic(platform.url("model-server") + "/v2/models/iris/infer", inference_request(), rate=RATE):
        # A terminal's Ctrl-C reaches a process whose SIGINT is the default, even when pytest runs in a
        # background job (where the shell ignores SIGINT and children inherit that).
        process = subprocess.Popen(rollout_command(platform, "healthy", report), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "check 1/3" in line:
                interrupt(process)
                break
        out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, "".join(lines) + out, err)


def test_ctrl_c_mid_step_sends_the_traffic_back_to_stable(platform, tmp_path):
    report = tmp_path / "interrupted.json"
    try:
        result = rollout_interrupted(platform, report, lambda process: process.send_signal(signal.SIGINT))
        document = assert_rolled_back(platform, result, report)
        assert "interrupted" in document["reason"]
    finally:
        reset(platform)


def test_prometheus_dying_mid_analysis_is_no_promotion(platform, tmp_path):
    """Last in this file: it stops the module's Prometheus."""
    report = tmp_path / "blind.json"
    result = rollout_interrupted(platform, report, lambda process: platform.stop("prometheus"))
    document = assert_rolled_back(platform, result, report)
    assert "prometheus" in document["results"][-1]["reason"].lower()
