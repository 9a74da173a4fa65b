"""`mlp demo --distributed`: the story with the DDP variant trained as a PyTorchJob on the training operator."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mlplatform.demo.cli import DISTRIBUTED_STEP, STEPS

# The demo rolls a canary out under traffic: under pytest-xdist, never beside another "canary-timing" test.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]   # a whole demo: see tests/README.md


def test_the_distributed_demo_trains_the_ddp_variant_then_tells_the_story_as_before(tmp_path):
    state_dir = tmp_path / "state"
    completed = subprocess.run(
        [sys.executable, "-m", "mlplatform.cli", "demo", "--distributed", "--state-dir", str(state_dir),
         "--rows", "2000", "--trials", "2", "--down"],
        capture_output=True, text=True, check=False, timeout=900)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    summary = json.loads((state_dir / "demo-summary.json").read_text())

    titles = [step["step"] for step in summary["steps"]]
    assert titles == [*[title for title, _ in STEPS[:2]], DISTRIBUTED_STEP[0], *[title for title, _ in STEPS[2:]]]
    distributed = summary["facts"]["distributed"]
    assert distributed["replicas"] == 2 and distributed["pytorchjob"].startswith("fraud-ddp-")
    assert 0.5 < distributed["auc"] <= 1.0
    assert distributed["version"] == "models:/fraud-ddp/1"
    assert summary["facts"]["candidate_version"] == "models:/fraud/2"  # the story goes on unchanged
