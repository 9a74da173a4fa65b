"""Local mode: `mlp local up` writes a kubeconfig, and the real KatibClient works against it unchanged."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from tests.tuning.test_katib_sdk import katib_sdk, manifest


@pytest.mark.slow
def test_katib_client_works_against_local_mode_through_its_kubeconfig(local_platform_factory):
    katib = katib_sdk()
    platform = local_platform_factory(components=("tuning-service",))
    config = Path(platform.endpoints.extra["kubeconfig"])
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    server = yaml.safe_load(config.read_text())["clusters"][0]["cluster"]["server"]
    assert server == platform.url("tuning-service").rstrip("/")

    katib_client = katib.KatibClient(config_file=str(config), namespace="kubeflow")
    katib_client.create_experiment(manifest("local-sdk", trials=2, seconds=0))
    katib_client.wait_for_experiment_condition("local-sdk", timeout=120, polling_interval=1)
    assert katib_client.get_experiment("local-sdk").status.trials_succeeded == 2
    assert katib_client.get_optimal_hyperparameters("local-sdk").best_trial_name
    assert len(katib_client.list_trials("local-sdk")) == 2
    katib_client.delete_experiment("local-sdk")
    assert [e.metadata.name for e in katib_client.list_experiments()] == []
